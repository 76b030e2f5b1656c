//! TwiML documents that hand a call to (or away from) Switchboard.

/// Escapes text for an XML attribute or element: `& < > " '`; tab/newline/carriage return as
/// character references (so attribute normalisation keeps them); other characters XML 1.0
/// forbids (C0 controls, U+FFFE/U+FFFF) are dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `<Response><Connect><Stream url="…"><Parameter name="…" value="…"/>…</Stream></Connect></Response>`:
/// a bidirectional Media Stream to `ws_url`, with `params` arriving as `customParameters`.
pub fn twiml_connect_stream(ws_url: &str, params: &[(&str, &str)]) -> String {
    let mut out = format!("<Response><Connect><Stream url=\"{}\">", xml_escape(ws_url));
    for (k, v) in params {
        out.push_str(&format!(
            "<Parameter name=\"{}\" value=\"{}\"/>",
            xml_escape(k),
            xml_escape(v)
        ));
    }
    out.push_str("</Stream></Connect></Response>");
    out
}

/// `<Response><Redirect>url</Redirect></Response>` (Twilio fetches `url` with POST), e.g. as
/// the `Twiml` of a live-call update that hands the call over.
pub fn twiml_redirect(url: &str) -> String {
    format!(
        "<Response><Redirect>{}</Redirect></Response>",
        xml_escape(url)
    )
}

/// `<Response><Dial>number</Dial></Response>`: connects the caller to `number` (a Dialogflow
/// `telephonyTransferCall`), as the `Twiml` of a live-call update.
pub fn twiml_dial(number: &str) -> String {
    format!(
        "<Response><Dial>{}</Dial></Response>",
        xml_escape(number.trim())
    )
}
