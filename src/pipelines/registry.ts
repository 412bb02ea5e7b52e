// Every processor type Flowwatch knows, by Datadog `type`.
import type { ProcessorSpec } from './processor.ts';
import { arithmeticProcessor } from './processors/arithmetic-processor.ts';
import { attributeRemapper } from './processors/attribute-remapper.ts';
import { categoryProcessor } from './processors/category-processor.ts';
import { dateRemapper } from './processors/date-remapper.ts';
import { excludeAttribute } from './processors/exclude-attribute.ts';
import { grokParser } from './processors/grok-parser.ts';
import { lookupProcessor } from './processors/lookup-processor.ts';
import { messageRemapper } from './processors/message-remapper.ts';
import { serviceRemapper } from './processors/service-remapper.ts';
import { spanIdRemapper } from './processors/span-id-remapper.ts';
import { statusRemapper } from './processors/status-remapper.ts';
import { stringBuilderProcessor } from './processors/string-builder-processor.ts';
import { traceIdRemapper } from './processors/trace-id-remapper.ts';
import { urlParser } from './processors/url-parser.ts';
import { userAgentParser } from './processors/user-agent-parser.ts';

export const PROCESSORS: ProcessorSpec[] = [
  lookupProcessor,
  statusRemapper,
  attributeRemapper,
  traceIdRemapper,
  dateRemapper,
  serviceRemapper,
  messageRemapper,
  categoryProcessor,
  stringBuilderProcessor,
  excludeAttribute,
  spanIdRemapper,
  arithmeticProcessor,
  urlParser,
  userAgentParser,
  grokParser,
] as ProcessorSpec[];

const BY_TYPE = new Map(PROCESSORS.map((p) => [p.type, p]));

/** The spec of a processor type. */
export function processorSpec(type: string): ProcessorSpec | undefined {
  return BY_TYPE.get(type);
}
