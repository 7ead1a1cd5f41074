//! Text analysis for full-text search, shared by every storage backend so
//! a query means the same on each.
//!
//! A message's language is not known (German and English are mixed in one
//! company), so every word is indexed under its German and its English
//! Snowball stem: "Häuser" → `haus`, "running" → `run`. German joins words
//! into compounds ("Betriebsratssitzung"); to find one by a part, a word is
//! also indexed reversed, so a suffix search is a prefix search on the
//! reversed terms ("Sitzung" → reversed `ztis*`), and a query word of at
//! least [`MIN_PART_CHARS`] characters also matches words it starts
//! ("Betriebsrat" finds "Betriebsratssitzung").
//!
//! Terms are lower-case letters and digits only, so they can be quoted in
//! an FTS query without escaping anything.

use rust_stemmers::{Algorithm, Stemmer};

/// Shortest stem that matches as a part of a longer word. Shorter ones
/// ("ab", "run") would match far too much.
pub const MIN_PART_CHARS: usize = 4;
/// Most words a query may have; the rest are ignored.
pub const MAX_QUERY_WORDS: usize = 8;
/// Longest word indexed, in characters; longer ones are cut.
const MAX_WORD_CHARS: usize = 64;

/// The index terms of one text: forward stems and reversed German stems,
/// each a space-separated list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Terms {
    /// German and English stems of every word.
    pub forward: String,
    /// German stems reversed, for matching compound endings.
    pub reversed: String,
}

/// The stemmers, created once (they are plain function pointers).
pub struct Analyzer {
    german: Stemmer,
    english: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            german: Stemmer::create(Algorithm::German),
            english: Stemmer::create(Algorithm::English),
        }
    }
}

/// The words of a text: runs of letters and digits, lower-cased, with `ß`
/// spelled `ss` (Swiss spelling and capitals never use `ß`).
pub fn words(text: &str) -> impl Iterator<Item = (usize, usize, String)> + '_ {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while let Some(&(_, c)) = rest.peek() {
            if c.is_alphanumeric() {
                break;
            }
            rest.next();
        }
        let (start, _) = *rest.peek()?;
        let mut end = start;
        let mut word = String::new();
        let mut chars = 0;
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            if chars < MAX_WORD_CHARS {
                for l in c.to_lowercase() {
                    if l == 'ß' {
                        word.push_str("ss");
                    } else {
                        word.push(l);
                    }
                }
                chars += 1;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        Some((start, end, word))
    })
}

impl Analyzer {
    /// German and English stems of a lower-cased word (one when they agree).
    fn stems(&self, word: &str) -> (String, Option<String>) {
        let de = self.german.stem(&fold_umlaut_spellings(word)).into_owned();
        let en = self.english.stem(word).into_owned();
        if en == de { (de, None) } else { (de, Some(en)) }
    }

    /// The German stem a word gets as the last part of a compound. The
    /// stemmer strips more from a long word ("Betriebsratssitzung" →
    /// `betriebsratssitz`) than from the word alone (`sitzung`), so the
    /// word is stemmed behind a neutral prefix to find the ending that
    /// compounds with it have.
    fn compound_tail(&self, word: &str) -> Option<String> {
        const PREFIX: &str = "tatat";
        let long = format!("{PREFIX}{}", fold_umlaut_spellings(word));
        let stem = self.german.stem(&long);
        let tail = stem.strip_prefix(PREFIX)?;
        (tail.chars().count() >= MIN_PART_CHARS).then(|| tail.to_owned())
    }

    /// Index terms for a message text.
    pub fn terms(&self, text: &str) -> Terms {
        let mut terms = Terms::default();
        for (_, _, word) in words(text) {
            let (de, en) = self.stems(&word);
            push(&mut terms.forward, &de);
            if let Some(en) = en {
                push(&mut terms.forward, &en);
            }
            push(&mut terms.reversed, &reverse(&de));
        }
        terms
    }

    /// Parse a query into its words' matchers; `None` if it has no word.
    pub fn query(&self, q: &str) -> Option<Query> {
        let words: Vec<WordMatch> = words(q)
            .take(MAX_QUERY_WORDS)
            .map(|(_, _, w)| {
                let (de, en) = self.stems(&w);
                let tail = self.compound_tail(&w).filter(|t| *t != de);
                WordMatch { de, en, tail }
            })
            .collect();
        if words.is_empty() {
            None
        } else {
            Some(Query { words })
        }
    }

    /// Whether a word of a text (lower-cased) matches any of the query
    /// words, by the same rules as the index: used to highlight hits in
    /// snippets. The word is stemmed once, however many query words.
    pub fn word_matches_any(&self, word: &str, query_words: &[WordMatch]) -> bool {
        let (de, en) = self.stems(word);
        query_words
            .iter()
            .any(|m| stems_match(&de, en.as_deref(), m))
    }
}

/// Whether a text word with these stems matches a query word.
fn stems_match(de: &str, en: Option<&str>, m: &WordMatch) -> bool {
    [Some(de), en].into_iter().flatten().any(|s| {
        s == m.de
            || m.en.as_deref() == Some(s)
            || (m.de.chars().count() >= MIN_PART_CHARS
                && (s.starts_with(&m.de) || de.ends_with(&m.de)))
            || m.tail.as_ref().is_some_and(|t| de.ends_with(t.as_str()))
    })
}

/// `ae`, `oe`, `ue` as `ä`, `ö`, `ü` (not `ue` after `q`), as in Snowball's
/// "german2" variant: people type "Haeuser" where they have no umlauts.
/// Applied before the German stemmer only, on index and query alike.
fn fold_umlaut_spellings(word: &str) -> std::borrow::Cow<'_, str> {
    if !(word.contains("ae") || word.contains("oe") || word.contains("ue")) {
        return std::borrow::Cow::Borrowed(word);
    }
    let mut out = String::with_capacity(word.len());
    let mut prev: Option<char> = None;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        let folded = match (c, chars.peek()) {
            ('a', Some('e')) => Some('ä'),
            ('o', Some('e')) => Some('ö'),
            ('u', Some('e')) if prev != Some('q') => Some('ü'),
            _ => None,
        };
        match folded {
            Some(f) => {
                chars.next();
                out.push(f);
                prev = Some(f);
            }
            None => {
                out.push(c);
                prev = Some(c);
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

fn push(list: &mut String, term: &str) {
    if term.is_empty() {
        return;
    }
    if !list.is_empty() {
        list.push(' ');
    }
    list.push_str(term);
}

fn reverse(s: &str) -> String {
    s.chars().rev().collect()
}

/// One query word: its stems.
#[derive(Clone, Debug)]
pub struct WordMatch {
    /// German stem.
    pub de: String,
    /// English stem, when it differs.
    pub en: Option<String>,
    /// Stem as the end of a compound, when it differs from `de`.
    pub tail: Option<String>,
}

/// A parsed query: every word must match (AND).
#[derive(Clone, Debug)]
pub struct Query {
    /// The words, in order.
    pub words: Vec<WordMatch>,
}

impl WordMatch {
    /// The word in FTS5 syntax: its stems, and, when `expand`, also as the
    /// start or end of a compound.
    pub fn fts5(&self, expand: bool) -> String {
        let mut alts = Vec::new();
        if expand && self.de.chars().count() >= MIN_PART_CHARS {
            alts.push(format!("fwd : \"{}\"*", self.de));
            alts.push(format!("rev : \"{}\"*", reverse(&self.de)));
        } else {
            alts.push(format!("fwd : \"{}\"", self.de));
        }
        if let Some(en) = &self.en {
            alts.push(format!("fwd : \"{en}\""));
        }
        if expand && let Some(tail) = &self.tail {
            alts.push(format!("rev : \"{}\"*", reverse(tail)));
        }
        format!("({})", alts.join(" OR "))
    }
}

impl Query {
    /// The query in SQLite FTS5 syntax over the columns `fwd` and `rev`,
    /// every word expanded to compounds.
    pub fn fts5(&self) -> String {
        self.fts5_expanding(|_| true)
    }

    /// The query with only the words `expand` picks (by position) also
    /// matched as parts of compounds.
    pub fn fts5_expanding(&self, mut expand: impl FnMut(usize) -> bool) -> String {
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| w.fts5(expand(i)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// Most characters of context on each side of the first hit in a snippet.
pub const SNIPPET_CONTEXT_CHARS: usize = 60;

/// A piece of a snippet: plain text, and whether it is a hit to highlight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnippetPart {
    /// The text, as written in the message.
    pub text: String,
    /// Whether this piece matched the query.
    pub hit: bool,
}

impl Analyzer {
    /// A short excerpt of `text` around the first hit, split into plain and
    /// highlighted parts (never markup: clients render the parts as text).
    pub fn snippet(&self, text: &str, query: &Query) -> Vec<SnippetPart> {
        let hits: Vec<(usize, usize)> = words(text)
            .filter(|(_, _, w)| self.word_matches_any(w, &query.words))
            .map(|(s, e, _)| (s, e))
            .collect();
        let first = hits.first().map_or(0, |h| h.0);
        let start = back_chars(text, first, SNIPPET_CONTEXT_CHARS);
        let last = hits.first().map_or(0, |h| h.1);
        let end = forward_chars(text, last, SNIPPET_CONTEXT_CHARS * 2);
        let mut parts = Vec::new();
        let mut at = start;
        if start > 0 {
            parts.push(SnippetPart {
                text: "…".into(),
                hit: false,
            });
        }
        for (s, e) in hits.into_iter().filter(|&(s, e)| s >= start && e <= end) {
            if s > at {
                parts.push(plain(&text[at..s]));
            }
            parts.push(SnippetPart {
                text: text[s..e].to_owned(),
                hit: true,
            });
            at = e;
        }
        if end > at {
            parts.push(plain(&text[at..end]));
        }
        if end < text.len() {
            parts.push(plain("…"));
        }
        parts
    }
}

fn plain(s: &str) -> SnippetPart {
    SnippetPart {
        text: s.to_owned(),
        hit: false,
    }
}

/// The byte offset `n` characters before `at` (or 0).
fn back_chars(text: &str, at: usize, n: usize) -> usize {
    text[..at].char_indices().rev().nth(n).map_or(0, |(i, _)| i)
}

/// The byte offset `n` characters after `at` (or the end).
fn forward_chars(text: &str, at: usize, n: usize) -> usize {
    text[at..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(text: &str, q: &str) -> bool {
        let a = Analyzer::default();
        let query = a.query(q).expect("a word");
        query
            .words
            .iter()
            .all(|m| words(text).any(|(_, _, w)| a.word_matches_any(&w, std::slice::from_ref(m))))
    }

    #[test]
    fn german_and_english_word_forms_match() {
        assert!(matches("Die Häuser am Hafen", "Haus"));
        assert!(matches("Das Haus am Hafen", "Häuser"));
        assert!(matches("Die Häuser am Hafen", "Haeuser"));
        assert!(matches("Die Haeuser am Hafen", "Häuser"));
        assert!(matches("Die Quelle", "Quelle"));
        assert!(matches("She was running late", "run"));
        assert!(matches("Straße gesperrt", "strasse"));
        assert!(matches("STRASSE gesperrt", "Straße"));
        assert!(matches("Die Betriebsratssitzung ist morgen", "Sitzung"));
        assert!(matches("Die Betriebsratssitzung ist morgen", "Betriebsrat"));
        assert!(matches("Die Betriebsratssitzungen sind montags", "Sitzung"));
        assert!(matches("Der Wartungsplan hängt aus", "Plan"));
        assert!(!matches("Das Haus am Hafen", "Maus"));
        assert!(!matches("run", "rung"));
    }

    #[test]
    fn common_words_can_be_searched_without_compounds() {
        let a = Analyzer::default();
        let q = a.query("Sitzung Häuser").expect("words");
        let all = q.fts5();
        assert!(
            all.contains("fwd : \"sitzung\"*") && all.contains("rev : "),
            "{all}"
        );
        let first_only = q.fts5_expanding(|i| i == 0);
        let (sitzung, hauser) = first_only.split_once(" AND ").expect("two words");
        assert!(sitzung.contains('*'), "{sitzung}");
        assert!(!hauser.contains('*') && !hauser.contains("rev"), "{hauser}");
    }

    #[test]
    fn terms_are_safe_to_quote() {
        let a = Analyzer::default();
        let t = a.terms("\"x\" OR * NEAR(a b) -- ; Grüße 42");
        assert!(
            t.forward.chars().all(|c| c == ' ' || c.is_alphanumeric()),
            "{t:?}"
        );
        let q = a.query("\"evil\" OR *").expect("words");
        assert!(q.fts5().contains("\"evil\""));
        assert!(a.query("  -- ** ").is_none());
    }

    #[test]
    fn snippets_split_hits_from_plain_text() {
        let a = Analyzer::default();
        let q = a.query("Sitzung").expect("word");
        let parts = a.snippet("Morgen: Betriebsratssitzung um 9 Uhr", &q);
        let hits: Vec<&str> = parts
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(hits, vec!["Betriebsratssitzung"]);
        let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, "Morgen: Betriebsratssitzung um 9 Uhr");
        let long = format!("{} Haus {}", "a ".repeat(200), "b ".repeat(200));
        let parts = a.snippet(&long, &a.query("Haus").expect("word"));
        let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert!(joined.starts_with('…') && joined.ends_with('…'));
        assert!(joined.chars().count() < 200, "{}", joined.len());
    }
}
