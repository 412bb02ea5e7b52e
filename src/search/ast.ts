// The query AST: what the parser produces and both back ends (SQL, in-memory) consume. docs/search.md.

/** Where a term looks. */
export type Field =
  /** free text: the words of the message */
  | { kind: 'message' }
  /** full text: the message and every value */
  | { kind: 'fulltext' }
  /** an attribute path, split on dots (a key spelled with a dot matches too) */
  | { kind: 'attr'; path: string }
  /** an official field */
  | { kind: 'reserved'; name: ReservedName }
  /** a tag `key:value` (key given) or any tag (`tags:`) */
  | { kind: 'tag'; key: string | null };

export type ReservedName = 'service' | 'source' | 'host' | 'status' | 'trace_id';

/** One piece of a pattern: literal text or a wildcard. */
export type PatternPart = string | { wildcard: '*' | '?' };

/** What a term compares with. */
export type Value =
  /** an exact value (a term or a quoted phrase; for words, the phrase of its words) */
  | { kind: 'exact'; text: string }
  /** a term with unescaped `*` or `?` */
  | { kind: 'pattern'; parts: PatternPart[] }
  /** `>`, `>=`, `<`, `<=` */
  | { kind: 'compare'; op: '>' | '>=' | '<' | '<='; bound: Bound }
  /** `[a TO b]`, `{a TO b}`; null is `*` */
  | { kind: 'range'; low: Bound | null; high: Bound | null; lowInclusive: boolean; highInclusive: boolean };

/** A comparison bound: numbers compare with numbers, text with strings. */
export type Bound = { kind: 'number'; value: number } | { kind: 'text'; value: string };

/** One CIDR block. */
export interface CidrBlock {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** A parsed query. */
export type Query =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'and'; children: Query[] }
  | { kind: 'or'; children: Query[] }
  | { kind: 'not'; child: Query }
  | { kind: 'term'; field: Field; value: Value }
  | { kind: 'exists'; field: Field }
  | { kind: 'cidr'; field: Field; blocks: CidrBlock[] };
