// user-agent-parser: parses the User-Agent in the first source holding a string (default `http.useragent`)
// into `target` (default `http.useragent_details`), in Datadog's documented shape:
//   browser: { family: "Chrome", major: "118", minor: "0", patch: "5993", patch_minor: "90" }
//   device:  { family: "Mac", category: "Desktop", brand: "Apple", model: "Mac" }
//   os:      { family: "Mac OS X", major: "10", minor: "15", patch: "7" }
// Version parts are strings and present only when the User-Agent has them. With `is_encoded`, the value is
// URL-decoded first ('+' is a space, as in IIS logs; a malformed escape is kept as it is).
// Parsing is ua-parser-js 1.x (MIT). Flowwatch's choices where Datadog's docs say nothing:
// - Families use the names of uap-core (the parser behind Datadog's, as its "Mac OS X" shows) for the common
//   cases where ua-parser-js names differ (Mac OS → Mac OS X, Chromium OS → Chrome OS, Chrome on a phone →
//   Chrome Mobile, …); otherwise ua-parser-js's names. Unknown parts have family "Other".
// - device.category is one of Desktop, Mobile, Tablet, TV, Gaming Console, Bot, Other (the RUM device types).
// - Bots (Googlebot, bingbot, Yahoo! Slurp, …, and any "…bot/…crawler/…spider" token) are recognised here,
//   as ua-parser-js 1.x does not: browser family is the bot's name, device { family: "Spider", category: "Bot" }.
// - A client that is not a browser ("curl/8.4.0", "okta-workflows/1.0") gets its leading product/version as
//   browser family and version.
// The target is replaced by the new details object. Only the first 500 characters are read (as ua-parser-js).
import UAParser from 'ua-parser-js';
import { z } from 'zod';
import type { Json } from '../../domain/log-event.ts';
import { getPath, setAttribute } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

const CACHE_SIZE = 1000;
/** ua-parser-js's own limit; also keeps the bot patterns linear on hostile input */
const MAX_UA_LENGTH = 500;

export const userAgentParser = defineProcessor({
  type: 'user-agent-parser',
  schema: z.object({
    type: z.literal('user-agent-parser'),
    ...processorBase,
    sources: sources(['http.useragent']),
    target: z.string().min(1).max(512).default('http.useragent_details'),
    is_encoded: z.boolean().default(false),
  }),
  compile(def) {
    // the same few User-Agents come again and again: keep the recent results (copied out, never shared)
    const cache = new Map<string, UserAgentDetails>();
    return (log) => {
      for (const s of def.sources) {
        const v = getPath(log.event, s);
        if (typeof v !== 'string') continue;
        const ua = (def.is_encoded ? urlDecode(v) : v).trim().slice(0, MAX_UA_LENGTH);
        if (ua === '') continue;
        let details = cache.get(ua);
        if (!details) {
          details = parseUserAgent(ua);
          if (cache.size >= CACHE_SIZE) cache.clear();
          cache.set(ua, details);
        }
        setAttribute(log.event.attributes, def.target, structuredClone(details) as unknown as Json);
        return;
      }
    };
  },
});

/** What the parser writes. */
export interface UserAgentDetails {
  browser: { family: string } & VersionParts;
  device: { family: string; category: string; brand?: string; model?: string };
  os: { family: string } & Omit<VersionParts, 'patch_minor'> & { patch_minor?: string };
}

interface VersionParts {
  major?: string;
  minor?: string;
  patch?: string;
  patch_minor?: string;
}

/** Decodes %XX escapes and '+' (a malformed or partial escape is kept as it is). */
export function urlDecode(s: string): string {
  return s.replace(/\+/g, ' ').replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

const OS_NAMES: Record<string, string> = {
  'Mac OS': 'Mac OS X',
  'Chromium OS': 'Chrome OS',
};
const BROWSER_NAMES: Record<string, string> = {
  'Chrome Headless': 'HeadlessChrome',
  'Chrome WebView': 'Chrome Mobile WebView',
  'Mobile Chrome': 'Chrome Mobile',
  'Mobile Firefox': 'Firefox Mobile',
};
const DEVICE_CATEGORIES: Record<string, string> = {
  mobile: 'Mobile',
  tablet: 'Tablet',
  smarttv: 'TV',
  console: 'Gaming Console',
  wearable: 'Mobile',
  embedded: 'Other',
};
const DESKTOP_OS =
  /^(Windows|Mac OS|Linux|Ubuntu|Debian|Fedora|Red Hat|CentOS|SUSE|openSUSE|Arch|Gentoo|Mint|Mandriva|Slackware|Chromium OS|Chrome OS|FreeBSD|OpenBSD|NetBSD|Solaris|Unix)$/;

const KNOWN_BOTS: [RegExp, string][] = [
  [/Googlebot(?:-\w+)?(?:\/(\d[\w.]*))?/i, 'Googlebot'],
  [/bingbot(?:\/(\d[\w.]*))?/i, 'bingbot'],
  [/Yahoo! Slurp/i, 'Yahoo! Slurp'],
  [/DuckDuckBot(?:-\w+)?(?:\/(\d[\w.]*))?/i, 'DuckDuckBot'],
  [/Baiduspider(?:\/(\d[\w.]*))?/i, 'Baiduspider'],
  [/YandexBot(?:\/(\d[\w.]*))?/i, 'YandexBot'],
  [/Applebot(?:\/(\d[\w.]*))?/i, 'Applebot'],
  [/facebookexternalhit(?:\/(\d[\w.]*))?/i, 'FacebookBot'],
];
// a product token ending in bot/crawler/spider, followed by a version, ';', ')' or the end (not "CUBOT X20")
const ANY_BOT = /\b([\w-]*(?:bot|crawler|spider))(?:\/(\d[\w.]*)|\/|(?=[;)]|$))/i;
const PRODUCT = /^([A-Za-z][\w.-]*)\/(\d[\w.]*)/;

/** Parses one User-Agent. */
export function parseUserAgent(text: string): UserAgentDetails {
  const ua = text.slice(0, MAX_UA_LENGTH);
  const r = new UAParser(ua).getResult();
  const os = {
    family: r.os.name ? (OS_NAMES[r.os.name] ?? r.os.name) : 'Other',
    ...versionParts(r.os.version),
  };
  const bot = detectBot(ua);
  if (bot) {
    return {
      browser: { family: bot.family, ...versionParts(bot.version) },
      device: { family: 'Spider', category: 'Bot' },
      os,
    };
  }
  return { browser: browserOf(ua, r), device: deviceOf(r), os };
}

function browserOf(ua: string, r: UAParser.IResult): UserAgentDetails['browser'] {
  const name = r.browser.name;
  let family = name ? (BROWSER_NAMES[name] ?? name) : undefined;
  let version = r.browser.version;
  const handheld = r.device.type === 'mobile' || r.device.type === 'tablet';
  const ios = r.os.name === 'iOS';
  if (family === 'Chrome' && handheld) family = ios ? 'Chrome Mobile iOS' : 'Chrome Mobile';
  else if (family === 'Firefox' && handheld) family = ios ? 'Firefox iOS' : 'Firefox Mobile';
  if (!family && !ua.startsWith('Mozilla/')) {
    const m = PRODUCT.exec(ua);
    if (m) {
      family = m[1];
      version = m[2];
    }
  }
  return { family: family ?? 'Other', ...versionParts(version) };
}

function deviceOf(r: UAParser.IResult): UserAgentDetails['device'] {
  const model = r.device.model === 'Macintosh' ? 'Mac' : r.device.model;
  let category = 'Other';
  if (r.device.type) category = DEVICE_CATEGORIES[r.device.type] ?? 'Other';
  else if (r.os.name && DESKTOP_OS.test(r.os.name) && r.browser.name) category = 'Desktop';
  const device: UserAgentDetails['device'] = { family: model ?? 'Other', category };
  if (r.device.vendor) device.brand = r.device.vendor;
  if (model) device.model = model;
  return device;
}

function detectBot(ua: string): { family: string; version?: string } | undefined {
  for (const [re, family] of KNOWN_BOTS) {
    const m = re.exec(ua);
    if (m) return { family, version: m[1] };
  }
  const m = ANY_BOT.exec(ua);
  return m ? { family: m[1] as string, version: m[2] } : undefined;
}

/** "118.0.5993.90" → major, minor, patch, patch_minor (only the parts present; "XP" is a major). */
function versionParts(version: string | undefined): VersionParts {
  if (!version) return {};
  const parts = version.split(/[._]/).filter((p) => p !== '');
  const out: VersionParts = {};
  if (parts[0] !== undefined) out.major = parts[0];
  if (parts[1] !== undefined) out.minor = parts[1];
  if (parts[2] !== undefined) out.patch = parts[2];
  if (parts[3] !== undefined) out.patch_minor = parts[3];
  return out;
}
