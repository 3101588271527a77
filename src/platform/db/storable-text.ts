/** Half of a UTF-16 surrogate pair without its other half: not a character at all. */
export const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const UNSTORABLE = new RegExp(`\\u0000|${LONE_SURROGATE.source}`, 'g');

/**
 * Text PostgreSQL can keep in text and jsonb columns: NUL and lone surrogates (which it refuses)
 * become U+FFFD, as bytes that are not UTF-8 already do when decoded. For text Assay produces
 * from what it does not control (program output, a model's reply); input is refused instead.
 */
export const storableText = (text: string) => text.replace(UNSTORABLE, '\uFFFD');
