/**
 * Strict parsing of the XML request bodies the REST-XML services (S3, Route 53) accept.
 *
 * fast-xml-parser's parser is lenient: it turns `garbage` into `{}` and `<a><b></a>` into a
 * document, which let malformed bodies through as empty settings. The services validate each body
 * against their schema and refuse one that is not well-formed, so this checks well-formedness
 * first (one root element, no DTD) and leaves every value a string for the caller to validate.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Thrown when a body is not well-formed XML, or not the document expected; callers map it to their service's error. */
export class MalformedXml extends Error {}

/**
 * Parses `text` into an object whose root is `root`: values are strings (never numbers or
 * booleans), elements named in `arrays` are always arrays, namespace prefixes are dropped.
 * @throws MalformedXml when the text is not well-formed, has a DTD, or its root is another element
 */
export function parseStrictXml(text: string, root: string, arrays: readonly string[] = []): Record<string, any> {
  // A DTD can declare entities that expand without bound; AWS's parsers do not take them either.
  if (/<!DOCTYPE/i.test(text)) throw new MalformedXml('a DTD is not allowed');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new MalformedXml(valid.err.msg);
  const parser = new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    processEntities: true,
    isArray: (name) => arrays.includes(name),
  });
  const doc = parser.parse(text);
  const roots = Object.keys(doc).filter((k) => k !== '?xml');
  if (roots.length !== 1 || roots[0] !== root) {
    throw new MalformedXml(`expected one <${root}> element, found ${roots.map((r) => `<${r}>`).join(', ') || 'none'}`);
  }
  const value = doc[root];
  // An empty element parses as '': give callers an object to read fields from.
  return typeof value === 'object' && value !== null ? value : {};
}

