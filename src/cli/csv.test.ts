import { describe, expect, it } from 'vitest';
import { csvCell, csvHeader, csvLog, parseColumns } from './csv.ts';
import type { ApiLog } from './format.ts';

const log: ApiLog = {
  id: '42',
  attributes: {
    timestamp: '2026-01-02T03:04:05.000Z',
    status: 'error',
    service: 'okta',
    message: 'a, "b"\nc',
    tags: ['env:prod'],
    attributes: { flow_name: '=HYPERLINK("x")', n: -5, 'a.b': 'literal', a: { c: 'nested' }, arr: [1, 'x'] },
  },
};

describe('csv', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    [undefined, ''],
    [null, ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\r', '"cr\r"'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['=a,"b"', '"\'=a,""b"""'],
    [-5, '-5'],
    [true, 'true'],
    [{ a: 1 }, '"{""a"":1}"'],
  ])('cell %j → %s', (v, want) => {
    expect(csvCell(v)).toBe(want);
  });

  it('reads official fields and @paths (a literal dotted key first, then nesting)', () => {
    const cols = parseColumns(
      'id,timestamp,status,service,host,message,tags,@flow_name,@n,@a.b,@a.c,@arr,@none',
    );
    expect(csvHeader(cols)).toBe(
      "id,timestamp,status,service,host,message,tags,'@flow_name,'@n,'@a.b,'@a.c,'@arr,'@none\r\n",
    );
    expect(csvLog(cols, log)).toBe(
      '42,2026-01-02T03:04:05.000Z,error,okta,,"a, ""b""\nc","[""env:prod""]",' +
        '"\'=HYPERLINK(""x"")",-5,literal,nested,"[1,""x""]",\r\n',
    );
  });

  it('rejects unknown and empty columns', () => {
    expect(() => parseColumns('timestamp,severity')).toThrow(/unknown column "severity"/);
    expect(() => parseColumns('timestamp,,message')).toThrow(/empty column/);
  });
});
