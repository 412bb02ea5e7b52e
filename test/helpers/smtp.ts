// An SMTP server in-process for tests (smtp-server on 127.0.0.1, port 0): PLAIN/LOGIN auth over a plain
// connection (no STARTTLS offered), RCPT replies scripted by the local part (nobody@ → 550, full@ → 452),
// and every accepted message parsed with mailparser.
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** The credentials the server accepts. */
export const SMTP_USER = 'flowwatch';
export const SMTP_PASSWORD = 'Sup3r-s3cret-SMTP-pa55word';

/** A local SMTP server: PLAIN auth over a plain connection, scripted RCPT replies, parsed messages. */
export interface Smtp {
  port: number;
  received: { mail: ParsedMail; from: string; to: string[]; user: string | undefined }[];
  authFailures: number;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<Smtp> {
  const out: Smtp = { port: 0, received: [], authFailures: 0, close: async () => undefined };
  const reply = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD)
        return cb(null, { user: auth.username });
      out.authFailures++;
      cb(reply(535, 'Authentication credentials invalid'));
    },
    onRcptTo(address, _session, cb) {
      const local = address.address.split('@')[0];
      if (local === 'nobody')
        return cb(reply(550, '5.1.1 <nobody@example.com>: Recipient address rejected: User unknown'));
      if (local === 'full') return cb(reply(452, '4.2.2 Mailbox full, try again later'));
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          out.received.push({
            mail,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            user: session.user as string | undefined,
          });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  out.port = (server.server.address() as AddressInfo).port;
  out.close = () => new Promise<void>((r) => server.close(() => r()));
  return out;
}
