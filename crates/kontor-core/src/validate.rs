//! Turns untrusted input into checked values, with messages a person
//! understands. Every function here is pure and cheap.

use crate::error::{DomainError, DomainResult};
use crate::invisible::{hidden_chars, is_explicit_bidi, strip_hidden};
use crate::limits::*;

/// Control characters (newline, carriage return and tab allowed when
/// `allow_newlines`) and the bidi embeddings, overrides and isolates: what
/// no text may contain, message bodies included.
fn has_forbidden_control(s: &str, allow_newlines: bool) -> bool {
    s.chars().any(|c| {
        let allowed_ws = allow_newlines && matches!(c, '\n' | '\r' | '\t');
        (c.is_control() && !allowed_ws) || is_explicit_bidi(c)
    })
}

/// Why a displayed label (a name, topic, reaction, device name or email
/// address) is refused, if it is: a control character, or a character
/// people cannot see ([`hidden_chars`]: bidi controls and default-ignorable
/// code points outside an emoji sequence).
fn label_problem(s: &str, allow_newlines: bool) -> Option<String> {
    if let Some(first) = hidden_chars(s).first() {
        return Some(format!(
            "must not contain invisible or text-direction characters (found U+{:04X})",
            u32::from(*first)
        ));
    }
    has_forbidden_control(s, allow_newlines)
        .then(|| "must not contain control characters".to_owned())
}

/// A username: 1–40 of `a-z 0-9 . _ -`, starting with a letter or digit.
/// Returned lower-cased so lookups are case-insensitive.
pub fn username(raw: &str) -> DomainResult<String> {
    let s = raw.trim().to_lowercase();
    let n = s.chars().count();
    if n == 0 || n > MAX_USERNAME_CHARS {
        return Err(DomainError::invalid(
            "username",
            format!("must be 1 to {MAX_USERNAME_CHARS} characters"),
        ));
    }
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let all_ok = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !first_ok || !all_ok {
        return Err(DomainError::invalid(
            "username",
            "may contain only a-z, 0-9, '.', '_' and '-', and must start with a letter or digit",
        ));
    }
    Ok(s)
}

/// An email address, checked for shape only (delivery is not our business
/// here) and lower-cased.
pub fn email(raw: &str) -> DomainResult<String> {
    let s = raw.trim().to_lowercase();
    let bad = || DomainError::invalid("email", "is not a valid email address");
    if s.chars().count() > MAX_EMAIL_CHARS || s.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') || !domain.contains('.') {
        return Err(bad());
    }
    if label_problem(&s, false).is_some() {
        return Err(bad());
    }
    Ok(s)
}

/// A display name or conversation name: trimmed, 1–100 characters, no
/// control characters and none people cannot see: bidi controls and
/// default-ignorable code points, except inside an emoji sequence
/// ([`crate::invisible`]); they spoof what others see.
pub fn name(field: &'static str, raw: &str) -> DomainResult<String> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if n > MAX_NAME_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters (got {n})"),
        ));
    }
    if let Some(problem) = label_problem(s, false) {
        return Err(DomainError::invalid(field, problem));
    }
    Ok(s.to_owned())
}

/// A conversation topic: up to 500 characters, may be empty, with line
/// breaks; otherwise the same characters as a name.
pub fn topic(raw: &str) -> DomainResult<String> {
    let s = raw.trim();
    let n = s.chars().count();
    if n > MAX_TOPIC_CHARS {
        return Err(DomainError::invalid(
            "topic",
            format!("must be at most {MAX_TOPIC_CHARS} characters (got {n})"),
        ));
    }
    if let Some(problem) = label_problem(s, true) {
        return Err(DomainError::invalid("topic", problem));
    }
    Ok(s.to_owned())
}

/// A message source: not blank, at most 16 KiB of UTF-8, no control
/// characters other than newline and tab, and no bidi embedding, override
/// or isolate (they reorder the rest of the text). Stored exactly as given.
/// Unlike a name, a message keeps the other invisible characters text
/// needs: ZWNJ (Persian, Indic scripts), ZWJ and variation selectors
/// (emoji), soft hyphens, LRM/RLM/ALM in right-to-left writing.
pub fn message_text(raw: &str) -> DomainResult<&str> {
    if raw.trim().is_empty() {
        return Err(DomainError::invalid("text", "must not be empty"));
    }
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(DomainError::LimitExceeded(format!(
            "text is {} bytes; a message may have at most {MAX_MESSAGE_BYTES} bytes",
            raw.len()
        )));
    }
    if has_forbidden_control(raw, true) {
        return Err(DomainError::invalid(
            "text",
            "must not contain control characters or text-direction overrides",
        ));
    }
    Ok(raw)
}

/// A reaction: one emoji sequence (no letters, digits or spaces, and
/// nothing invisible but the joiners, variation selectors and tags an
/// emoji needs, as for names) or a `:shortcode:` of `a-z 0-9 _ + -`, at
/// most 32 bytes.
pub fn reaction(raw: &str) -> DomainResult<&str> {
    let bad = || {
        DomainError::invalid(
            "emoji",
            format!("must be one emoji or a :shortcode:, at most {MAX_REACTION_BYTES} bytes"),
        )
    };
    if raw.is_empty() || raw.len() > MAX_REACTION_BYTES {
        return Err(bad());
    }
    let shortcode = raw.len() > 2
        && raw.starts_with(':')
        && raw.ends_with(':')
        && raw[1..raw.len() - 1]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '+' | '-'));
    let emoji = !raw.is_ascii()
        && hidden_chars(raw).is_empty()
        && raw.chars().all(|c| {
            let ascii_ok = c.is_ascii_digit() || matches!(c, '#' | '*');
            !c.is_whitespace()
                && !c.is_control()
                && !c.is_alphabetic()
                && (!c.is_ascii() || ascii_ok)
        });
    if shortcode || emoji {
        Ok(raw)
    } else {
        Err(bad())
    }
}

/// A client transaction id: 1–64 bytes of printable ASCII. Clients pick it
/// (a UUID is typical) so a retried send is recognised.
pub fn txn_id(raw: &str) -> DomainResult<&str> {
    if raw.is_empty() || raw.len() > MAX_TXN_ID_BYTES || !raw.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(DomainError::invalid(
            "txn_id",
            format!("must be 1 to {MAX_TXN_ID_BYTES} printable ASCII characters"),
        ));
    }
    Ok(raw)
}

/// A new password: at least 10 characters, at most 1 KiB.
pub fn new_password(raw: &str) -> DomainResult<&str> {
    if raw.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if raw.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(raw)
}

/// A session's device name; defaults to "unknown device" when absent.
pub fn device_name(raw: Option<&str>) -> DomainResult<String> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok("unknown device".to_owned()),
        Some(s)
            if s.chars().count() > MAX_DEVICE_NAME_CHARS || label_problem(s, false).is_some() =>
        {
            Err(DomainError::invalid(
                "device_name",
                format!(
                    "must be at most {MAX_DEVICE_NAME_CHARS} characters without control or invisible characters"
                ),
            ))
        }
        Some(s) => Ok(s.to_owned()),
    }
}

/// A page size: default 50, 1 to 200.
pub fn page_size(raw: Option<u32>) -> DomainResult<usize> {
    match raw {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n >= 1 && (n as usize) <= MAX_PAGE_SIZE => Ok(n as usize),
        Some(_) => Err(DomainError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        )),
    }
}

/// A directory offset: at most `MAX_DIRECTORY_OFFSET`, default 0.
pub fn directory_offset(raw: Option<u32>) -> DomainResult<usize> {
    let offset = raw.unwrap_or(0) as usize;
    if offset > MAX_DIRECTORY_OFFSET {
        return Err(DomainError::invalid(
            "offset",
            format!("must be at most {MAX_DIRECTORY_OFFSET}"),
        ));
    }
    Ok(offset)
}

/// A search query: not blank, at most `MAX_SEARCH_QUERY_CHARS`.
pub fn search_query(raw: &str) -> DomainResult<&str> {
    let q = raw.trim();
    if q.is_empty() {
        return Err(DomainError::invalid("q", "must not be blank"));
    }
    if q.chars().count() > MAX_SEARCH_QUERY_CHARS {
        return Err(DomainError::invalid(
            "q",
            format!("must be at most {MAX_SEARCH_QUERY_CHARS} characters"),
        ));
    }
    Ok(q)
}

/// A search page: size 1 to `MAX_SEARCH_PAGE` (default
/// `DEFAULT_SEARCH_PAGE`), offset at most `MAX_SEARCH_OFFSET`.
pub fn search_page(limit: Option<u32>, offset: Option<u32>) -> DomainResult<(usize, usize)> {
    let limit = match limit {
        None => DEFAULT_SEARCH_PAGE,
        Some(n) if n >= 1 && (n as usize) <= MAX_SEARCH_PAGE => n as usize,
        Some(_) => {
            return Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {MAX_SEARCH_PAGE}"),
            ));
        }
    };
    let offset = offset.unwrap_or(0) as usize;
    if offset > MAX_SEARCH_OFFSET {
        return Err(DomainError::invalid(
            "offset",
            format!("must be at most {MAX_SEARCH_OFFSET}; narrow the search instead"),
        ));
    }
    Ok((limit, offset))
}

/// A file name as shown to people, made harmless: no path (only what
/// follows the last `/` or `\\`), no control characters and none of
/// those a name refuses (bidi controls: a right-to-left override can make
/// `exe.pdf` look like `fdp.exe`; invisible ones, see
/// [`crate::invisible`]), none of `<>:"|?*`, no leading dots or trailing dots and
/// spaces, no Windows device name (`CON`, `NUL`, `COM1`, …), at most
/// `MAX_FILE_NAME_CHARS`. Stored files are named by the server; this name
/// only travels in `Content-Disposition` and JSON.
pub fn file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut name: String = strip_hidden(base)
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    name = name
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_owned();
    let stem = name
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if device {
        name.insert(0, '_');
    }
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        let ext: String = match name.rfind('.') {
            Some(i) if name.len() - i <= 16 => name[i..].to_owned(),
            _ => String::new(),
        };
        let keep = MAX_FILE_NAME_CHARS - ext.chars().count();
        name = name.chars().take(keep).collect::<String>() + &ext;
    }
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_never_carry_paths_or_tricks() {
        for (raw, want) in [
            ("Bericht Q3.pdf", "Bericht Q3.pdf"),
            ("../../x", "x"),
            ("..\\..\\x.txt", "x.txt"),
            ("%2e%2e/secret", "secret"),
            ("C:\\Windows\\win.ini", "win.ini"),
            ("a\0b.txt", "ab.txt"),
            ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
            ("CON", "_CON"),
            ("nul.txt", "_nul.txt"),
            ("COM1.log", "_COM1.log"),
            ("COMPUTER.txt", "COMPUTER.txt"),
            ("...hidden", "hidden"),
            ("trailing. . ", "trailing"),
            ("a<b>c:d|e?f*.txt", "a_b_c_d_e_f_.txt"),
            ("", "file"),
            ("../", "file"),
            ("Grüße übers Büro.docx", "Grüße übers Büro.docx"),
        ] {
            assert_eq!(file_name(raw), want, "{raw:?}");
        }
        let long = format!("{}.pdf", "x".repeat(500));
        let cut = file_name(&long);
        assert_eq!(cut.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(cut.ends_with(".pdf"));
    }

    #[test]
    fn usernames() {
        assert_eq!(username(" Anna.Schmidt ").as_deref(), Ok("anna.schmidt"));
        for bad in ["", "_x", "a b", "änne", &"a".repeat(41), "a@b"] {
            assert!(username(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_reject_bidi_override_and_overlong() {
        assert!(name("name", "ok\u{202e}gpj.exe").is_err());
        assert!(name("name", &"x".repeat(101)).is_err());
        assert_eq!(name("name", "  Ünal Öztürk ").as_deref(), Ok("Ünal Öztürk"));
    }

    /// The code points a hostile probe got into names and reactions, and
    /// the rest of the Bidi_Control set.
    const INVISIBLE: &[char] = &[
        '\u{202E}', '\u{202D}', '\u{2067}', '\u{200B}', '\u{FEFF}', '\u{202B}', '\u{061C}',
        '\u{00AD}', '\u{200F}', '\u{2066}', '\u{200E}', '\u{202A}', '\u{202C}', '\u{2068}',
        '\u{2069}', '\u{200C}', '\u{3164}',
    ];

    #[test]
    fn labels_refuse_every_invisible_and_bidi_character() {
        for &c in INVISIBLE {
            let hex = u32::from(c);
            let label = format!("Ann{c}a");
            let e = name("name", &label).expect_err(&format!("U+{hex:04X} in a name"));
            assert!(e.to_string().contains(&format!("U+{hex:04X}")), "{e}");
            assert!(topic(&label).is_err(), "U+{hex:04X} in a topic");
            assert!(
                device_name(Some(&label)).is_err(),
                "U+{hex:04X} in a device name"
            );
            assert!(
                email(&format!("an{c}na@firma.de")).is_err(),
                "U+{hex:04X} in an email"
            );
            assert_eq!(
                file_name(&format!("{label}.pdf")),
                "Anna.pdf",
                "U+{hex:04X}"
            );
            for r in [format!("👍{c}"), format!("{c}👍"), c.to_string()] {
                assert!(reaction(&r).is_err(), "U+{hex:04X} in reaction {r:?}");
            }
        }
        // Emoji keep their joiners and variation selectors in names too.
        assert!(name("display_name", "Anna 👨‍👩‍👧 ❤️").is_ok());
        assert!(name("name", "Anna\u{200D}Schmidt").is_err());
    }

    #[test]
    fn messages_refuse_only_reordering_controls() {
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
            assert!(
                message_text(&format!("a{c}b")).is_err(),
                "U+{:04X}",
                u32::from(c)
            );
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert!(
                message_text(&format!("a{c}b")).is_err(),
                "U+{:04X}",
                u32::from(c)
            );
        }
        // What text needs: ZWNJ in Persian, ZWJ and VS16 in emoji, soft
        // hyphens, RLM in Hebrew next to Latin.
        for ok in [
            "می\u{200C}خواهم",
            "👨‍👩‍👧 ❤️",
            "Donau\u{00AD}dampf",
            "שלום\u{200F} (OK)",
        ] {
            assert!(message_text(ok).is_ok(), "{ok:?} refused");
        }
    }

    #[test]
    fn message_text_limits() {
        assert!(message_text("   \n").is_err());
        assert!(message_text(&"ä".repeat(MAX_MESSAGE_BYTES / 2)).is_ok());
        assert!(matches!(
            message_text(&"a".repeat(MAX_MESSAGE_BYTES + 1)),
            Err(DomainError::LimitExceeded(_))
        ));
        assert!(message_text("a\u{0}b").is_err());
        assert!(message_text("line\nline\ttab").is_ok());
    }

    #[test]
    fn reactions() {
        for ok in ["👍", "👍🏽", "❤️", "👨‍👩‍👧", ":thumbsup:", ":+1:", "1️⃣"]
        {
            assert!(reaction(ok).is_ok(), "{ok:?} refused");
        }
        for bad in ["", "a", "hello", "👍 ", ":Bad:", "::", &"👍".repeat(9)] {
            assert!(reaction(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email("Anna@Firma.DE").as_deref(), Ok("anna@firma.de"));
        for bad in ["anna", "@x.de", "a@b", "a b@c.de", "a@@b.de"] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
    }
}
