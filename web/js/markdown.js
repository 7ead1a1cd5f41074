// The Markdown subset of Kontor messages, rendered straight into DOM nodes.
//
//   **bold**   _italic_  *italic*   `inline code`   ```code block```
//   line breaks, http:// and https:// URLs (autolinked), @mentions
//
// Source text is only ever placed with textContent / text nodes; no string
// is parsed as HTML. Links are created only for http(s) URLs that the URL
// parser accepts, with rel="noopener noreferrer" and target="_blank". Any
// other scheme (javascript:, data:, …) stays plain text.

/** Words that address everybody (same as kontor-core `mention::CHANNEL_WORDS`). */
export const CHANNEL_WORDS = ['channel', 'all', 'here'];

/** Emphasis nesting depth; deeper markers are shown literally. */
const MAX_DEPTH = 6;

const URL_RE = /https?:\/\/[^\s<>"`]+/iy;
const MENTION_RE = /@([A-Za-z0-9._-]+)/y;
const WORD_RE = /[\p{L}\p{N}_]/u;

/**
 * Render message source to a DocumentFragment.
 * @param {string} text
 * @param {{me?: string}} [options] `me`: own username, to mark own mentions
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text, options = {}) {
  const frag = document.createDocumentFragment();
  if (typeof text !== 'string' || text === '') return frag;
  const src = text.replace(/\r\n?/g, '\n');
  const opts = { me: options.me ? String(options.me).toLowerCase() : null };
  for (const block of splitBlocks(src)) {
    if (block.code) {
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      code.textContent = block.text;
      pre.append(code);
      frag.append(pre);
    } else if (block.text) {
      appendInline(frag, block.text, opts, 0);
    }
  }
  return frag;
}

/** Split source into text and fenced code blocks (``` … ```). */
function splitBlocks(src) {
  const blocks = [];
  let pos = 0;
  while (pos < src.length) {
    const open = src.indexOf('```', pos);
    if (open < 0) break;
    const close = src.indexOf('```', open + 3);
    if (close < 0) break; // unclosed fence: the rest stays text
    let before = src.slice(pos, open);
    if (before.endsWith('\n')) before = before.slice(0, -1);
    blocks.push({ code: false, text: before });
    let body = src.slice(open + 3, close);
    // An info string on the opening line (```js) is dropped.
    const firstNl = body.indexOf('\n');
    if (firstNl >= 0 && /^[A-Za-z0-9_+#.-]*$/.test(body.slice(0, firstNl))) body = body.slice(firstNl + 1);
    if (body.endsWith('\n')) body = body.slice(0, -1);
    blocks.push({ code: true, text: body });
    pos = close + 3;
    if (src[pos] === '\n') pos += 1;
  }
  blocks.push({ code: false, text: src.slice(pos) });
  return blocks;
}

function isWord(ch) {
  return !!ch && WORD_RE.test(ch);
}

function isSpace(ch) {
  return !ch || /\s/.test(ch);
}

/** Append inline content (emphasis, code, links, mentions, breaks) to parent. */
function appendInline(parent, text, opts, depth) {
  let buf = '';
  const flush = () => {
    if (buf) appendText(parent, buf);
    buf = '';
  };
  // Delimiters with no closing partner left; never searched again.
  const failed = new Set();
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const prev = i > 0 ? text[i - 1] : '';

    // Backslash escapes a marker character.
    if (c === '\\' && i + 1 < text.length && '*_`@\\'.includes(text[i + 1])) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        const code = document.createElement('code');
        code.textContent = text.slice(i + 1, end);
        parent.append(code);
        i = end + 1;
        continue;
      }
    }
    if (c === '*' && text[i + 1] === '*' && depth < MAX_DEPTH && !failed.has('**') && !isSpace(text[i + 2])) {
      const end = findClose(text, '**', i + 2);
      if (end > i + 2) {
        flush();
        const strong = document.createElement('strong');
        appendInline(strong, text.slice(i + 2, end), opts, depth + 1);
        parent.append(strong);
        i = end + 2;
        continue;
      }
      if (end < 0) failed.add('**');
    }
    if ((c === '_' || c === '*') && depth < MAX_DEPTH && !failed.has(c) && !isWord(prev) && !isSpace(text[i + 1]) && text[i + 1] !== c) {
      const end = findClose(text, c, i + 1);
      if (end > i + 1) {
        flush();
        const em = document.createElement('em');
        appendInline(em, text.slice(i + 1, end), opts, depth + 1);
        parent.append(em);
        i = end + 1;
        continue;
      }
      if (end < 0) failed.add(c);
    }
    if ((c === 'h' || c === 'H') && !isWord(prev)) {
      const url = matchUrl(text, i);
      if (url) {
        flush();
        parent.append(link(url));
        i += url.length;
        continue;
      }
    }
    if (c === '@' && !isWord(prev)) {
      const name = matchMention(text, i);
      if (name) {
        flush();
        parent.append(mention(name, opts));
        i += name.length + 1;
        continue;
      }
    }
    buf += c;
    i += 1;
  }
  flush();
}

/**
 * Find the closing delimiter for an emphasis run starting at `from`.
 * Inline code and URLs are skipped, so markers inside them do not count.
 * Returns the index of the closing delimiter or -1.
 */
function findClose(text, delim, from) {
  let j = from;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', j + 1);
      if (end > j + 1) {
        j = end + 1;
        continue;
      }
    }
    if ((c === 'h' || c === 'H') && !isWord(text[j - 1])) {
      const url = matchUrl(text, j);
      if (url) {
        j += url.length;
        continue;
      }
    }
    if (text.startsWith(delim, j) && !isSpace(text[j - 1])) {
      if (delim === '**') return j;
      // A single * that is part of ** belongs to bold text; skip the pair.
      if (delim === '*' && text[j + 1] === '*') {
        j += 2;
        continue;
      }
      // _ closes only at the end of a word (snake_case stays as is).
      if (delim === '_' && isWord(text[j + 1])) {
        j += 1;
        continue;
      }
      return j;
    }
    j += 1;
  }
  return -1;
}

/** An http(s) URL starting at i, without trailing punctuation, or null. */
function matchUrl(text, i) {
  URL_RE.lastIndex = i;
  const m = URL_RE.exec(text);
  if (!m) return null;
  let url = m[0];
  // Trailing punctuation belongs to the sentence, not the link.
  for (;;) {
    const last = url[url.length - 1];
    if ('.,;:!?\'"*_'.includes(last)) {
      url = url.slice(0, -1);
    } else if (last === ')' && count(url, '(') < count(url, ')')) {
      url = url.slice(0, -1);
    } else {
      break;
    }
  }
  try {
    const parsed = new URL(url);
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) return null;
  } catch {
    return null;
  }
  return url;
}

function count(s, ch) {
  let n = 0;
  for (const c of s) if (c === ch) n += 1;
  return n;
}

function link(url) {
  const a = document.createElement('a');
  // Parsed once more: the href is the normalised http(s) URL.
  a.href = new URL(url).href;
  a.textContent = url;
  a.rel = 'noopener noreferrer';
  a.target = '_blank';
  return a;
}

/** The mention word after '@' at i (trailing '.' and '-' trimmed), or null. */
function matchMention(text, i) {
  MENTION_RE.lastIndex = i;
  const m = MENTION_RE.exec(text);
  if (!m) return null;
  const word = m[1].replace(/[.-]+$/, '');
  return word || null;
}

function mention(word, opts) {
  const span = document.createElement('span');
  const lower = word.toLowerCase();
  span.className = 'mention';
  if (CHANNEL_WORDS.includes(lower)) span.classList.add('mention-channel');
  else if (opts.me && lower === opts.me) span.classList.add('mention-me');
  span.textContent = `@${word}`;
  return span;
}

/** Text with line breaks as <br>. */
function appendText(parent, s) {
  const lines = s.split('\n');
  lines.forEach((line, idx) => {
    if (idx > 0) parent.append(document.createElement('br'));
    if (line) parent.append(document.createTextNode(line));
  });
}

/**
 * Find `@username` and `@channel` tokens outside code, like
 * kontor-core `mention::parse`: usernames lower-cased, unique, in order.
 * @returns {{usernames: string[], channel: boolean}}
 */
export function parseMentions(text) {
  const usernames = [];
  let channel = false;
  let inCode = false;
  let prev = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '`') {
      inCode = !inCode;
    } else if (c === '@' && !inCode && !(prev && (WORD_RE.test(prev)))) {
      const rest = /^[A-Za-z0-9._-]*/.exec(text.slice(i + 1, i + 200))[0];
      const word = rest.replace(/[.-]+$/, '').toLowerCase();
      if (word) {
        if (CHANNEL_WORDS.includes(word)) channel = true;
        else if (!usernames.includes(word)) usernames.push(word);
      }
    }
    prev = c;
  }
  return { usernames, channel };
}

/** Plain one-line preview of message source (markers stripped, no markup). */
export function plainPreview(text, max = 120) {
  const s = String(text || '')
    .replace(/```[\s\S]*?```/g, ' … ')
    .replace(/\*\*|`/g, '')
    .replace(/(^|\W)[_*](\S[^_*]*?)[_*](?=\W|$)/g, '$1$2')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
