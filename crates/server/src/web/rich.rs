//! Rich bot messages for the widget: DF `fulfillmentMessages` (quick replies, cards, images) and
//! Dialogflow Messenger `richContent` payloads, reduced to a small, bounded, safe shape:
//!
//! * `{"type":"chips","options":[{"text","url"?}]}`
//! * `{"type":"card","title","subtitle"?,"lines"?,"image"?,"url"?,"buttons":[{"text","url"?}]}`
//! * `{"type":"image","url","alt"}`
//!
//! Only http(s) URLs survive; other payloads (call control, platform-specific ones) are ignored.
//! The widget renders every string as text, never as markup.

use serde_json::{json, Map, Value};

const MAX_STR: usize = 500;
const MAX_ITEMS: usize = 12;
const MAX_MESSAGES: usize = 10;
const MAX_URL: usize = 2_048;

fn text(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    (!s.is_empty()).then(|| s.chars().take(MAX_STR).collect())
}

/// An absolute http(s) URL, or nothing.
pub fn safe_url(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    if s.len() > MAX_URL {
        return None;
    }
    let u = reqwest::Url::parse(s).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

fn for_web(m: &Value) -> bool {
    match m.get("platform").and_then(Value::as_str) {
        None => true,
        Some(p) => p == "PLATFORM_UNSPECIFIED",
    }
}

fn put(o: &mut Map<String, Value>, k: &str, v: Option<String>) {
    if let Some(v) = v {
        o.insert(k.into(), Value::String(v));
    }
}

fn card(
    title: Option<String>,
    subtitle: Option<String>,
    lines: Vec<String>,
    image: Option<String>,
    url: Option<String>,
    buttons: Vec<Value>,
) -> Option<Value> {
    if title.is_none() && subtitle.is_none() && lines.is_empty() && image.is_none() {
        return None;
    }
    let mut o = Map::new();
    o.insert("type".into(), json!("card"));
    put(&mut o, "title", title);
    put(&mut o, "subtitle", subtitle);
    if !lines.is_empty() {
        o.insert("lines".into(), json!(lines));
    }
    put(&mut o, "image", image);
    put(&mut o, "url", url);
    o.insert("buttons".into(), Value::Array(buttons));
    Some(Value::Object(o))
}

fn button(text_: Option<String>, url: Option<String>) -> Option<Value> {
    let t = text_?;
    Some(match url {
        Some(u) => json!({"text": t, "url": u}),
        None => json!({"text": t}),
    })
}

fn chips<'a>(options: impl Iterator<Item = &'a Value>) -> Option<Value> {
    let opts: Vec<Value> = options
        .filter_map(|o| match o {
            Value::String(_) => button(text(Some(o)), None),
            _ => button(text(o.get("text")), safe_url(o.get("link"))),
        })
        .take(MAX_ITEMS)
        .collect();
    (!opts.is_empty()).then(|| json!({"type": "chips", "options": opts}))
}

fn image(url: Option<String>, alt: Option<String>) -> Option<Value> {
    Some(json!({"type": "image", "url": url?, "alt": alt.unwrap_or_default()}))
}

/// One element of a Dialogflow Messenger `richContent` row.
fn rich_element(e: &Value) -> Option<Value> {
    let s = |k: &str| text(e.get(k));
    match e.get("type").and_then(Value::as_str)? {
        "chips" => chips(e.get("options")?.as_array()?.iter()),
        "image" => image(safe_url(e.get("rawUrl")), s("accessibilityText")),
        "info" => card(
            s("title"),
            s("subtitle"),
            Vec::new(),
            safe_url(e.pointer("/image/src/rawUrl")),
            safe_url(e.get("actionLink")),
            Vec::new(),
        ),
        "description" => card(
            s("title"),
            None,
            e.get("text")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| text(Some(t)))
                        .take(MAX_ITEMS)
                        .collect()
                })
                .unwrap_or_default(),
            None,
            None,
            Vec::new(),
        ),
        "button" => {
            let b = button(s("text"), safe_url(e.get("link")))?;
            Some(json!({"type": "chips", "options": [b]}))
        }
        "list" | "accordion" => card(
            s("title"),
            s("subtitle"),
            text(e.get("text")).into_iter().collect(),
            None,
            None,
            Vec::new(),
        ),
        _ => None,
    }
}

/// The widget's rich messages of one bot turn (text messages are carried as the entry's text).
pub fn from_fulfillment(messages: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in messages.iter().filter(|m| for_web(m)) {
        if let Some(q) = m.get("quickReplies") {
            let title = text(q.get("title"));
            if let Some(t) = title {
                out.push(json!({"type": "card", "title": t, "buttons": []}));
            }
            if let Some(c) = q
                .get("quickReplies")
                .and_then(Value::as_array)
                .and_then(|a| chips(a.iter()))
            {
                out.push(c);
            }
        } else if let Some(c) = m.get("card") {
            let buttons = c
                .get("buttons")
                .and_then(Value::as_array)
                .map(|bs| {
                    bs.iter()
                        .filter_map(|b| button(text(b.get("text")), safe_url(b.get("postback"))))
                        .take(MAX_ITEMS)
                        .collect()
                })
                .unwrap_or_default();
            out.extend(card(
                text(c.get("title")),
                text(c.get("subtitle")),
                Vec::new(),
                safe_url(c.get("imageUri")),
                None,
                buttons,
            ));
        } else if let Some(i) = m.get("image") {
            out.extend(image(
                safe_url(i.get("imageUri")),
                text(i.get("accessibilityText")),
            ));
        } else if let Some(rows) = m.pointer("/payload/richContent").and_then(Value::as_array) {
            for row in rows {
                match row {
                    Value::Array(items) => out.extend(items.iter().filter_map(rich_element)),
                    other => out.extend(rich_element(other)),
                }
            }
        }
        if out.len() >= MAX_MESSAGES {
            break;
        }
    }
    out.truncate(MAX_MESSAGES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_quick_replies_cards_and_images() {
        let msgs = vec![
            json!({"text": {"text": ["Hi"]}}),
            json!({"quickReplies": {"quickReplies": ["Book a table", "Opening hours"]}}),
            json!({"card": {"title": "Menu", "subtitle": "Spring", "imageUri": "https://x.test/m.png",
                "buttons": [{"text": "Open", "postback": "https://x.test/menu"}, {"text": "Bad", "postback": "javascript:alert(1)"}]}}),
            json!({"image": {"imageUri": "https://x.test/a.png", "accessibilityText": "A room"}}),
            json!({"platform": "FACEBOOK", "image": {"imageUri": "https://x.test/fb.png"}}),
            json!({"payload": {"live_agent_handoff": true}}),
        ];
        let out = from_fulfillment(&msgs);
        assert_eq!(
            out,
            vec![
                json!({"type": "chips", "options": [{"text": "Book a table"}, {"text": "Opening hours"}]}),
                json!({"type": "card", "title": "Menu", "subtitle": "Spring", "image": "https://x.test/m.png",
                    "buttons": [{"text": "Open", "url": "https://x.test/menu"}, {"text": "Bad"}]}),
                json!({"type": "image", "url": "https://x.test/a.png", "alt": "A room"}),
            ]
        );
    }

    #[test]
    fn messenger_rich_content_and_unknown_elements() {
        let msgs = vec![json!({"payload": {"richContent": [[
            {"type": "chips", "options": [{"text": "Call me", "link": "tel:123"}, {"text": "Site", "link": "https://x.test"}]},
            {"type": "info", "title": "Hours", "subtitle": "12–23", "actionLink": "data:text/html,<b>"},
            {"type": "image", "rawUrl": "javascript:alert(1)"},
            {"type": "video", "url": "https://x.test/v"},
            {"type": "description", "title": "Note", "text": ["one", "two"]}
        ]]}})];
        let out = from_fulfillment(&msgs);
        assert_eq!(
            out,
            vec![
                json!({"type": "chips", "options": [{"text": "Call me"}, {"text": "Site", "url": "https://x.test/"}]}),
                json!({"type": "card", "title": "Hours", "subtitle": "12–23", "buttons": []}),
                json!({"type": "card", "title": "Note", "lines": ["one", "two"], "buttons": []}),
            ]
        );
    }

    #[test]
    fn bounded() {
        let many: Vec<Value> = (0..100).map(|i| json!(format!("chip {i}"))).collect();
        let long = "x".repeat(10_000);
        let out = from_fulfillment(&[
            json!({"quickReplies": {"quickReplies": many}}),
            json!({"card": {"title": long}}),
        ]);
        assert_eq!(out[0]["options"].as_array().map(Vec::len), Some(MAX_ITEMS));
        assert_eq!(out[1]["title"].as_str().map(str::len), Some(MAX_STR));
        let flood: Vec<Value> = (0..50)
            .map(|_| json!({"image": {"imageUri": "https://x.test/a.png"}}))
            .collect();
        assert_eq!(from_fulfillment(&flood).len(), MAX_MESSAGES);
    }
}
