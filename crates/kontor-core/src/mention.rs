//! Finding `@name` tokens in message source.
//!
//! Mentions travel as structured metadata next to the text (user ids and an
//! `@channel` flag), so the server never has to read a message body to know
//! whom it mentions; that keeps the door open for end-to-end encryption.
//! Clients use this function to turn what the user typed into that
//! metadata.

/// Words that address everybody in the conversation.
pub const CHANNEL_WORDS: [&str; 3] = ["channel", "all", "here"];

/// The mention tokens found in a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MentionTokens {
    /// Usernames after `@`, lower-cased, without duplicates, in order.
    pub usernames: Vec<String>,
    /// `@channel`, `@all` or `@here` appeared.
    pub channel: bool,
}

/// Find `@username` tokens outside code spans and code blocks. A token must
/// start the text or follow a character that is not part of a word, so
/// `anna@firma.de` is not a mention.
pub fn parse(text: &str) -> MentionTokens {
    let mut out = MentionTokens::default();
    let mut in_code = false;
    let mut prev: Option<char> = None;
    let chars = text.char_indices().peekable();
    for (i, c) in chars {
        if c == '`' {
            in_code = !in_code;
        } else if c == '@' && !in_code && prev.is_none_or(|p| !p.is_alphanumeric() && p != '_') {
            let rest = &text[i + 1..];
            let len = rest
                .char_indices()
                .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-')))
                .map_or(rest.len(), |(j, _)| j);
            let word = rest[..len]
                .trim_end_matches(['.', '-'])
                .to_ascii_lowercase();
            if !word.is_empty() {
                if CHANNEL_WORDS.contains(&word.as_str()) {
                    out.channel = true;
                } else if !out.usernames.contains(&word) {
                    out.usernames.push(word);
                }
            }
        }
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_people_and_channel() {
        let t = parse("Hallo @Anna.Schmidt und @bernd, bitte @channel lesen. @anna.schmidt!");
        assert_eq!(t.usernames, vec!["anna.schmidt", "bernd"]);
        assert!(t.channel);
    }

    #[test]
    fn ignores_emails_and_code() {
        let t = parse("mail anna@firma.de or `@bernd` ```\n@carl\n``` @dora.");
        assert_eq!(t.usernames, vec!["dora"]);
        assert!(!t.channel);
    }
}
