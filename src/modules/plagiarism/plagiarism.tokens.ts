/**
 * Turns a program into the token stream plagiarism detection compares. Comments and whitespace
 * are dropped, every identifier becomes `V`, every number `N` and every string or character
 * literal `S`; keywords, operators and punctuation stay as written. Renaming variables,
 * reformatting, rewording comments or changing messages therefore leaves the stream as it was,
 * while the program's structure (what a copier rarely changes) is all that is left to compare.
 */

export type Token = {
  /** The normalised text: a keyword, an operator, or `V`, `N`, `S`. */
  text: string;
  /** 1-based line where the token starts. */
  line: number;
};

type Syntax = {
  lineComments: readonly string[];
  /** `#` starts a comment only at the start of a word (shell: `$#` and `${#x}` are not comments). */
  hashCommentAtWordStart?: boolean;
  blockComments: readonly (readonly [open: string, close: string])[];
  /** Quotes that open a string, the longest first (`"""` before `"`). */
  quotes: readonly string[];
  /** Quotes whose strings may span lines (the others end at a newline, as in C). */
  multiLineQuotes: readonly string[];
  /** `'x'` is a character literal; a lone `'` (a Rust lifetime) is punctuation. */
  charLiterals: boolean;
  /** Letters that may prefix a string without a space (Python's `r"…"`, `f'…'`, `rb"…"`). */
  stringPrefixes?: ReadonlySet<string>;
  keywords: ReadonlySet<string>;
};

const words = (text: string) => new Set(text.split(/\s+/).filter(Boolean));

const C_KEYWORDS =
  'auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while bool true false NULL include define';
const CPP_KEYWORDS = `${C_KEYWORDS} alignas alignof and catch class constexpr const_cast decltype delete dynamic_cast explicit export friend mutable namespace new noexcept not nullptr operator or private protected public reinterpret_cast static_assert static_cast template this throw try typeid typename using virtual`;
const JAVA_KEYWORDS =
  'abstract assert boolean break byte case catch char class const continue default do double else enum extends final finally float for goto if implements import instanceof int interface long native new package private protected public return short static strictfp super switch synchronized this throw throws transient try void volatile while var record true false null';
const JS_KEYWORDS =
  'async await break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while with yield';
const TS_KEYWORDS = `${JS_KEYWORDS} abstract any as boolean declare enum implements interface keyof namespace never number private protected public readonly string type unknown`;
const PYTHON_KEYWORDS =
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case';
const GO_KEYWORDS =
  'break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var true false nil';
const RUST_KEYWORDS =
  'as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while';
const R_KEYWORDS =
  'if else repeat while function for in next break TRUE FALSE NULL Inf NaN NA NA_integer_ NA_real_ NA_character_';
const BASH_KEYWORDS =
  'if then else elif fi case esac for select while until do done in function time local return export readonly declare';

const C_STYLE = {
  lineComments: ['//'],
  blockComments: [['/*', '*/']],
  charLiterals: true,
} as const;

const SYNTAX: Record<string, Syntax> = {
  python: {
    lineComments: ['#'],
    blockComments: [],
    quotes: ['"""', "'''", '"', "'"],
    multiLineQuotes: ['"""', "'''"],
    charLiterals: false,
    stringPrefixes: words('r u b f br rb fr rf'),
    keywords: words(PYTHON_KEYWORDS),
  },
  c: { ...C_STYLE, quotes: ['"'], multiLineQuotes: [], keywords: words(C_KEYWORDS) },
  cpp: { ...C_STYLE, quotes: ['"'], multiLineQuotes: [], keywords: words(CPP_KEYWORDS) },
  java: {
    ...C_STYLE,
    quotes: ['"""', '"'],
    multiLineQuotes: ['"""'],
    keywords: words(JAVA_KEYWORDS),
  },
  javascript: {
    ...C_STYLE,
    quotes: ['`', '"', "'"],
    multiLineQuotes: ['`'],
    charLiterals: false,
    keywords: words(JS_KEYWORDS),
  },
  typescript: {
    ...C_STYLE,
    quotes: ['`', '"', "'"],
    multiLineQuotes: ['`'],
    charLiterals: false,
    keywords: words(TS_KEYWORDS),
  },
  go: { ...C_STYLE, quotes: ['`', '"'], multiLineQuotes: ['`'], keywords: words(GO_KEYWORDS) },
  rust: { ...C_STYLE, quotes: ['"'], multiLineQuotes: ['"'], keywords: words(RUST_KEYWORDS) },
  r: {
    lineComments: ['#'],
    blockComments: [],
    quotes: ['"', "'"],
    multiLineQuotes: ['"', "'"],
    charLiterals: false,
    keywords: words(R_KEYWORDS),
  },
  bash: {
    lineComments: ['#'],
    hashCommentAtWordStart: true,
    blockComments: [],
    quotes: ['"', "'"],
    multiLineQuotes: ['"', "'"],
    charLiterals: false,
    keywords: words(BASH_KEYWORDS),
  },
};

/** For languages without an entry: both comment styles, the usual quotes, no keywords. */
const GENERIC: Syntax = {
  lineComments: ['//', '#'],
  blockComments: [['/*', '*/']],
  quotes: ['"', "'", '`'],
  multiLineQuotes: [],
  charLiterals: false,
  keywords: new Set(),
};

/** Longest first, so `>>=` is one token and not `>>` then `=`. */
const OPERATORS = [
  '>>>=',
  '===',
  '!==',
  '>>>',
  '<<=',
  '>>=',
  '**=',
  '//=',
  '...',
  '<=>',
  '->',
  '=>',
  '::',
  '++',
  '--',
  '&&',
  '||',
  '==',
  '!=',
  '<=',
  '>=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '<<',
  '>>',
  '**',
  '//',
  ':=',
  '?.',
  '??',
  '<-',
];

const IDENTIFIER = /[\p{L}_$][\p{L}\p{N}_$]*/uy;
const NUMBER =
  /(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)[a-zA-Z0-9_]*/y;
const CHAR_LITERAL =
  /'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|[0-7]{1,3}|.)|[^\\'\n]{1,4})'/uy;
const SPACE = /\s/;

/** Any language id without a syntax of its own gets the generic one. */
export function tokenize(source: string, language: string): Token[] {
  const syntax = SYNTAX[language] ?? GENERIC;
  const tokens: Token[] = [];
  let line = 1;
  let at = 0;

  const countLines = (from: number, to: number) => {
    for (let index = from; index < to; index++) if (source.charCodeAt(index) === 10) line += 1;
  };
  /** Moves past the string opened at `at` by `quote`; unterminated strings end the file. */
  const skipString = (quote: string) => {
    const multiLine = syntax.multiLineQuotes.includes(quote);
    let index = at + quote.length;
    while (index < source.length) {
      const char = source[index];
      if (char === '\\') index += 2;
      else if (source.startsWith(quote, index)) {
        index += quote.length;
        break;
      } else if (char === '\n' && !multiLine) break;
      else index += 1;
    }
    const end = Math.min(index, source.length);
    countLines(at, end);
    at = end;
  };
  const match = (pattern: RegExp) => {
    pattern.lastIndex = at;
    return pattern.exec(source)?.[0];
  };
  const emit = (text: string, startLine = line) => tokens.push({ text, line: startLine });

  while (at < source.length) {
    const char = source[at]!;
    if (SPACE.test(char)) {
      if (char === '\n') line += 1;
      at += 1;
      continue;
    }
    const lineComment = syntax.lineComments.find((open) => source.startsWith(open, at));
    if (
      lineComment &&
      !(
        lineComment === '#' &&
        syntax.hashCommentAtWordStart &&
        at > 0 &&
        !SPACE.test(source[at - 1]!) &&
        source[at - 1] !== ';'
      )
    ) {
      const end = source.indexOf('\n', at);
      at = end === -1 ? source.length : end;
      continue;
    }
    const block = syntax.blockComments.find(([open]) => source.startsWith(open, at));
    if (block) {
      const close = source.indexOf(block[1], at + block[0].length);
      const end = close === -1 ? source.length : close + block[1].length;
      countLines(at, end);
      at = end;
      continue;
    }
    const quote = syntax.quotes.find((open) => source.startsWith(open, at));
    if (quote) {
      emit('S');
      skipString(quote);
      continue;
    }
    if (char === "'" && syntax.charLiterals) {
      const literal = match(CHAR_LITERAL);
      emit(literal ? 'S' : "'");
      at += literal ? literal.length : 1;
      continue;
    }
    const number = match(NUMBER);
    if (number) {
      emit('N');
      at += number.length;
      continue;
    }
    const word = match(IDENTIFIER);
    if (word) {
      const prefixed = syntax.stringPrefixes?.has(word.toLowerCase())
        ? syntax.quotes.find((open) => source.startsWith(open, at + word.length))
        : undefined;
      if (prefixed) {
        emit('S');
        at += word.length;
        skipString(prefixed);
        continue;
      }
      emit(syntax.keywords.has(word) ? word : 'V');
      at += word.length;
      continue;
    }
    const operator = OPERATORS.find((candidate) => source.startsWith(candidate, at)) ?? char;
    emit(operator);
    at += operator.length;
  }
  return tokens;
}
