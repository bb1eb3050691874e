//! XML text for the query protocols' responses (SQS's and SNS's XML documents).

/// Escapes `text` for an XML element or attribute value. A carriage return is written as a
/// character reference, because XML parsers turn a literal one into a newline.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_quotes_and_carriage_returns() {
        assert_eq!(
            super::escape("a<b>&\"'\r\nz"),
            "a&lt;b&gt;&amp;&quot;&apos;&#xD;\nz"
        );
    }
}
