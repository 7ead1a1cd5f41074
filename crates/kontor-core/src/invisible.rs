//! Characters people cannot see: Unicode's bidirectional controls and its
//! default-ignorable code points. They let a name look like another one
//! ("anna" with a zero-width space in it), look empty (a Hangul filler), or
//! reorder what follows them (a right-to-left embedding, override or
//! isolate: `exe.pdf` shown as `fdp.exe`).
//!
//! One rule, [`hidden_chars`], decides what a displayed label may contain
//! (display, conversation and organisation names, topics, reactions, email
//! addresses, device and file names): none of these characters, except
//! where an emoji sequence needs them (a zero-width joiner between two
//! emoji, a variation selector after one, tag characters of a subdivision
//! flag). Message bodies are text, not labels, and keep these characters
//! (a ZWNJ in Persian, a soft hyphen, a right-to-left mark in Hebrew),
//! except the explicit embeddings, overrides and isolates
//! ([`is_explicit_bidi`]) that reorder everything after them.
//!
//! The tables are written out here because the core has no dependencies.

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt,
/// Unicode 16.0), as inclusive ranges in ascending order. Ranges still
/// unassigned in it are included, as Unicode asks, so characters assigned
/// later are ignorable already.
const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),   // soft hyphen
    (0x034F, 0x034F),   // combining grapheme joiner
    (0x061C, 0x061C),   // Arabic letter mark
    (0x115F, 0x1160),   // Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),   // Khmer inherent vowels
    (0x180B, 0x180F),   // Mongolian variation selectors, vowel separator
    (0x200B, 0x200F),   // zero-width space, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),   // embeddings and overrides
    (0x2060, 0x206F),   // word joiner, invisible operators, isolates, deprecated format
    (0x3164, 0x3164),   // Hangul filler
    (0xFE00, 0xFE0F),   // variation selectors 1–16
    (0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),   // halfwidth Hangul filler
    (0xFFF0, 0xFFF8),   // unassigned specials
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical beam and phrase controls
    (0xE0000, 0xE0FFF), // tags, variation selectors 17–256, unassigned
];

/// Unicode's `Bidi_Control` property (PropList.txt): the Arabic letter
/// mark, LRM and RLM, the embeddings and overrides, and the isolates.
/// (All of them are default-ignorable too.)
const BIDI_CONTROL: &[(u32, u32)] = &[
    (0x061C, 0x061C),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2066, 0x2069),
];

/// Zero-width joiner: joins emoji into one (👨‍👩‍👧).
const ZWJ: char = '\u{200D}';
/// The black flag that starts a subdivision flag's tag sequence (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
const BLACK_FLAG: char = '\u{1F3F4}';

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    table.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Whether `c` is a default-ignorable code point: rendered as nothing when
/// a font has no glyph for it.
pub fn is_default_ignorable(c: char) -> bool {
    in_table(DEFAULT_IGNORABLE, c)
}

/// Whether `c` is a bidirectional control character.
pub fn is_bidi_control(c: char) -> bool {
    in_table(BIDI_CONTROL, c)
}

/// Whether `c` is an explicit bidi embedding, override or isolate (or
/// their terminators, PDF and PDI): the controls that reorder the text
/// after them, which is what makes a spoof. LRM, RLM and ALM only set the
/// direction of the characters next to them and are left to text.
pub fn is_explicit_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A visible character an emoji sequence is built from: not a letter,
/// digit, space, control or ignorable, and not ASCII (emoji, pictographs,
/// skin tones, symbols like ❤ or ©).
fn emoji_like(c: char) -> bool {
    !c.is_ascii()
        && !c.is_alphanumeric()
        && !c.is_whitespace()
        && !c.is_control()
        && !is_default_ignorable(c)
}

/// Whether the ignorable `chars[i]` is where an emoji sequence needs it.
fn emoji_needs(chars: &[char], i: usize) -> bool {
    let c = chars[i];
    let prev = i.checked_sub(1).map(|p| chars[p]);
    let next = chars.get(i + 1).copied();
    match c {
        // Between two emoji; the first may end in its variation selector
        // (❤️‍🔥).
        ZWJ => {
            prev.is_some_and(|p| emoji_like(p) || p == '\u{FE0F}') && next.is_some_and(emoji_like)
        }
        // Text or emoji presentation of the character before it, keycaps
        // included (1️⃣).
        '\u{FE0E}' | '\u{FE0F}' => {
            prev.is_some_and(|p| emoji_like(p) || p.is_ascii_digit() || matches!(p, '#' | '*'))
        }
        // A subdivision flag: the black flag, tag letters, the cancel tag.
        '\u{E0020}'..='\u{E007F}' => {
            prev.is_some_and(|p| p == BLACK_FLAG || ('\u{E0020}'..='\u{E007E}').contains(&p))
        }
        _ => false,
    }
}

/// The characters of `s` a displayed label must not contain, in order:
/// every bidi control and default-ignorable code point, except a zero-width
/// joiner between two emoji, a variation selector 15 or 16 after an emoji
/// (or a keycap's digit, `#` or `*`) and the tag characters of a
/// subdivision flag.
pub fn hidden_chars(s: &str) -> Vec<char> {
    let chars: Vec<char> = s.chars().collect();
    (0..chars.len())
        .filter(|&i| {
            let c = chars[i];
            (is_bidi_control(c) || is_default_ignorable(c)) && !emoji_needs(&chars, i)
        })
        .map(|i| chars[i])
        .collect()
}

/// `s` without the characters [`hidden_chars`] finds, for labels that are
/// cleaned rather than refused (file names).
pub fn strip_hidden(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    (0..chars.len())
        .filter(|&i| {
            let c = chars[i];
            !(is_bidi_control(c) || is_default_ignorable(c)) || emoji_needs(&chars, i)
        })
        .map(|i| chars[i])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code points the hostile probe got through, and the rest of the
    /// Bidi_Control set.
    const PROBED: &[char] = &[
        '\u{202E}',
        '\u{202D}',
        '\u{2067}',
        '\u{200B}',
        '\u{FEFF}',
        '\u{202B}',
        '\u{061C}',
        '\u{00AD}',
        '\u{200F}',
        '\u{2066}',
        '\u{200E}',
        '\u{202A}',
        '\u{202C}',
        '\u{2068}',
        '\u{2069}',
        '\u{200C}',
        '\u{2060}',
        '\u{3164}',
        '\u{115F}',
        '\u{FFA0}',
        '\u{034F}',
        '\u{180E}',
        '\u{E0001}',
        '\u{E0100}',
        '\u{FE00}',
    ];

    #[test]
    fn every_probed_code_point_is_hidden_in_a_label() {
        for &c in PROBED {
            for s in [format!("an{c}na"), format!("{c}anna"), format!("anna{c}")] {
                assert_eq!(hidden_chars(&s), vec![c], "U+{:04X} in {s:?}", u32::from(c));
                assert_eq!(strip_hidden(&s), "anna", "U+{:04X}", u32::from(c));
            }
        }
        for c in ['\u{200D}', '\u{FE0F}', '\u{E0067}', '\u{E007F}'] {
            assert_eq!(
                hidden_chars(&format!("an{c}na")),
                vec![c],
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn tables_are_sorted_and_bidi_controls_are_ignorable() {
        for table in [DEFAULT_IGNORABLE, BIDI_CONTROL] {
            assert!(table.iter().all(|(lo, hi)| lo <= hi));
            assert!(table.windows(2).all(|w| w[0].1 < w[1].0));
        }
        for &(lo, hi) in BIDI_CONTROL {
            for c in (lo..=hi).filter_map(char::from_u32) {
                assert!(is_default_ignorable(c) && is_bidi_control(c));
            }
        }
        assert!(!is_default_ignorable('a') && !is_default_ignorable('👍'));
    }

    #[test]
    fn emoji_sequences_keep_what_they_need() {
        for ok in [
            "👨‍👩‍👧",
            "❤️",
            "❤️‍🔥",
            "🏳️‍🌈",
            "1️⃣",
            "#️⃣",
            "👍🏽",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
            "Anna 👩‍💻",
            "Ünal Öztürk",
            "محمد",
            "שלום",
        ] {
            assert!(
                hidden_chars(ok).is_empty(),
                "{ok:?}: {:?}",
                hidden_chars(ok)
            );
        }
        // Out of place, they are hidden too.
        for (bad, found) in [
            ("\u{200D}👍", '\u{200D}'),
            ("👍\u{200D}", '\u{200D}'),
            ("a\u{200D}b", '\u{200D}'),
            ("\u{FE0F}", '\u{FE0F}'),
            ("x\u{FE0F}", '\u{FE0F}'),
            ("👍\u{E0067}", '\u{E0067}'),
        ] {
            assert_eq!(hidden_chars(bad), vec![found], "{bad:?}");
        }
    }

    #[test]
    fn explicit_bidi_is_the_reordering_subset() {
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
            assert!(is_explicit_bidi(c));
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert!(is_explicit_bidi(c));
        }
        for c in ['\u{200E}', '\u{200F}', '\u{061C}', '\u{200C}', '\u{200D}'] {
            assert!(!is_explicit_bidi(c));
        }
    }
}
