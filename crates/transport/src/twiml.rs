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

/// `<Response><Connect action="…" method="…"><Stream url="…">…</Stream></Connect></Response>`:
/// like [`twiml_connect_stream`], and when the stream ends Twilio requests `action` with
/// `method` (`GET` or `POST`) and runs the TwiML it answers with, as after a
/// `<Connect><VirtualAgent>` session.
pub fn twiml_connect_stream_action(
    ws_url: &str,
    action: &str,
    method: &str,
    params: &[(&str, &str)],
) -> String {
    let plain = twiml_connect_stream(ws_url, params);
    let open = format!(
        "<Response><Connect action=\"{}\" method=\"{}\">",
        xml_escape(action),
        xml_escape(method)
    );
    plain.replacen("<Response><Connect>", &open, 1)
}

/// `<Response><Hangup/></Response>`.
pub fn twiml_hangup() -> String {
    "<Response><Hangup/></Response>".into()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_with_an_action() {
        assert_eq!(
            twiml_connect_stream_action(
                "wss://h/twilio/media",
                "https://h/twilio/action?connector=a&b=1",
                "POST",
                &[("connector", "a")]
            ),
            "<Response><Connect action=\"https://h/twilio/action?connector=a&amp;b=1\" method=\"POST\"><Stream url=\"wss://h/twilio/media\"><Parameter name=\"connector\" value=\"a\"/></Stream></Connect></Response>"
        );
    }
}
