//! CloudWatch Logs' simple filter patterns: space-separated terms that must all occur,
//! `"quoted phrases"` (spaces and punctuation included), `?term` (at least one of the ?-terms
//! must occur) and `-term` (must not occur). Matching is case-sensitive, as on AWS; an empty
//! pattern matches everything. JSON (`{ $.x = 1 }`), space-delimited (`[a, b]`) and regular
//! expression (`%re%`) patterns are refused.

/// A parsed pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPattern {
    required: Vec<String>,
    any_of: Vec<String>,
    excluded: Vec<String>,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(pub String);

impl FilterPattern {
    /// # Errors
    /// Unsupported pattern kinds, an unterminated quote, a bare `?` or `-`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let text = text.trim();
        if text.starts_with('{') || text.starts_with('[') || text.starts_with('%') {
            return Err(PatternError(
                "only simple term filter patterns are supported (terms, \"phrases\", ?term, -term); JSON, space-delimited and regular-expression patterns are not".into(),
            ));
        }
        let mut pattern = Self::default();
        let mut rest = text;
        loop {
            rest = rest.trim_start();
            let Some(first) = rest.chars().next() else {
                break;
            };
            let (list, after_prefix) = match first {
                '?' => (&mut pattern.any_of, &rest[1..]),
                '-' => (&mut pattern.excluded, &rest[1..]),
                _ => (&mut pattern.required, rest),
            };
            let (term, after) = take_term(after_prefix)?;
            if term.is_empty() {
                return Err(PatternError(format!(
                    "the filter pattern has an empty term after '{first}'"
                )));
            }
            list.push(term);
            rest = after;
        }
        Ok(pattern)
    }

    #[must_use]
    pub fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|t| message.contains(t.as_str()))
            && (self.any_of.is_empty() || self.any_of.iter().any(|t| message.contains(t.as_str())))
            && !self.excluded.iter().any(|t| message.contains(t.as_str()))
    }
}

/// One term (a quoted phrase or a word up to the next space) and what follows it.
fn take_term(text: &str) -> Result<(String, &str), PatternError> {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut term = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((term, &quoted[i + 1..])),
                '\\' => match chars.next() {
                    Some((_, escaped)) => term.push(escaped),
                    None => break,
                },
                other => term.push(other),
            }
        }
        return Err(PatternError(
            "the filter pattern has an unterminated quoted phrase".into(),
        ));
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Ok((text[..end].to_owned(), &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern)
            .expect("pattern parses")
            .matches(message)
    }

    #[test]
    fn terms_are_all_required_and_case_sensitive() {
        assert!(matches("", "anything"));
        assert!(matches("ERROR disk", "ERROR: disk full"));
        assert!(!matches("ERROR disk", "ERROR: memory"));
        assert!(!matches("error", "ERROR"));
    }

    #[test]
    fn phrases_optional_terms_and_exclusions() {
        assert!(matches("\"disk full\"", "ERROR: disk full now"));
        assert!(!matches("\"disk full\"", "full disk"));
        assert!(matches("?ERROR ?WARN", "WARN low memory"));
        assert!(!matches("?ERROR ?WARN", "INFO ok"));
        assert!(matches("ERROR -timeout", "ERROR disk"));
        assert!(!matches("ERROR -timeout", "ERROR timeout"));
        assert!(matches("-\"Billed Duration\"", "START RequestId"));
        assert!(matches("\"say \\\"hi\\\"\"", "they say \"hi\""));
    }

    #[test]
    fn unsupported_and_malformed_patterns_are_refused() {
        for bad in [
            "{ $.level = \"x\" }",
            "[ip, user]",
            "%ab+%",
            "\"open",
            "? x",
            "-",
        ] {
            assert!(FilterPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
