#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (committed; rerun to regenerate).

Seeds come from the crates' tests (messages, bodies, SSML), the example agent in
examples/restaurant and the Dialogflow ES exports in ../shared/agents (when present).
Every seed is small: the fuzzer mutates them, it does not need them big.
"""
import hashlib
import io
import json
import math
import os
import struct
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("SWITCHBOARD_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
OUT = os.path.join(HERE, "corpus")


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def agents():
    """(name, {relative path: bytes}) of every export available."""
    roots = [("restaurant", os.path.join(REPO, "examples", "restaurant"))]
    sa = os.path.join(SHARED, "agents")
    if os.path.isdir(sa):
        for n in sorted(os.listdir(sa)):
            if os.path.isdir(os.path.join(sa, n)):
                roots.append((n, os.path.join(sa, n)))
    for name, root in roots:
        files = {}
        for dp, _, fns in os.walk(root):
            for fn in sorted(fns):
                if fn.endswith(".json"):
                    p = os.path.join(dp, fn)
                    files[os.path.relpath(p, root)] = open(p, "rb").read()
        yield name, files


# --- Twilio: one message a line, `#` lines drive our side ------------------------------------
START = '{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"agent":"pizza","n":"2"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}'
CONNECTED = '{"event":"connected","protocol":"Call","version":"1.0.0"}'
MEDIA = '{"event":"media","sequenceNumber":"%d","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"%s"}}'
import base64
ulaw20 = base64.b64encode(bytes((i * 37) % 256 for i in range(160))).decode()
twilio = [
    [CONNECTED, START, MEDIA % (2, ulaw20), MEDIA % (3, "/w=="),
     '{"event":"dtmf","sequenceNumber":"4","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"7"}}',
     '{"event":"mark","sequenceNumber":"5","streamSid":"MZ1","mark":{"name":"turn-1"}}',
     '{"event":"stop","sequenceNumber":"6","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}'],
    [CONNECTED, START, "#audio 3", "#mark m1", MEDIA % (2, ulaw20), "#reply", "#audio 1", "#clear",
     '{"event":"mark","streamSid":"MZ1","mark":{"name":"m1"}}', "#close", MEDIA % (9, ulaw20)],
    [START, '{"event":"media","streamSid":"MZ1","media":{"payload":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}',
     '{"event":"media","streamSid":"MZ1","media":{"track":"outbound","payload":"AA=="}}',
     '{"event":"media","streamSid":"MZ2","media":{"payload":"AA=="}}', '{"event":"future"}'],
    ['{"event":"start","streamSid":"MZ9","start":{"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"8000","channels":"1"}}}',
     MEDIA % (18446744073709551615, ulaw20), MEDIA % (1, ulaw20)],
    ['{"event":"media","streamSid":"MZ1","media":{"payload":"AA=="}}', "#audio 1", START, START],
]
for s in twilio:
    put("twilio_stream", "\n".join(s))

# --- Vonage: [kind][len u16 LE][bytes]; kind >= 0x80 drives our side -------------------------
def rec(kind, body):
    if isinstance(body, str):
        body = body.encode()
    return bytes([kind]) + struct.pack("<H", len(body)) + body

def l16(n):
    return b"".join(struct.pack("<h", int(8000 * math.sin(i / 7))) for i in range(n))

FIRST = '{"event":"websocket:connected","content-type":"audio/l16;rate=16000","uuid":"u1","connector":"default","k":"v"}'
put("vonage_stream", rec(0, FIRST) + rec(1, l16(320)) + rec(1, l16(320)) +
    rec(0, '{"event":"websocket:dtmf","digit":"5","duration":260}') + rec(0x80, "m1") +
    rec(0, '{"event":"websocket:notify","payload":{"mark":"m1"}}') + rec(0x82, b"\x01") +
    rec(0x81, "") + rec(0, '{"event":"websocket:cleared"}') + rec(0x84, "") + rec(1, l16(320)))
put("vonage_stream", rec(0, '{"content-type":"audio/l16;rate=8000"}') + rec(1, l16(160)) +
    rec(1, l16(159)) + rec(0, '{"event":"websocket:notify","payload":{"x":[1,{"y":null}]}}') +
    rec(0x83, "") + rec(0x82, b"\x05") + rec(0, FIRST))
put("vonage_stream", rec(1, l16(320)) + rec(0, '{"event":"websocket:dtmf","digit":"1"}') +
    rec(0, '{"event":"websocket:connected","content-type":"Audio/L16; Rate=24000"}') + rec(1, l16(480)) +
    rec(0, '{"event":"websocket:dtmf","digit":"#","duration":-1}') + rec(0, '{"event":"later"}'))

# --- TwiML / NCCO builders: url \0 name \0 value ... ----------------------------------------
for s in ["wss://sb.example/twilio/media\0connector\0default\0agent\0pizza",
          "wss://h/x?a=1&b=<2>\0q\"u'o&te\0tab\there\nnl\0\x01ctl\0\ufffe",
          "\x00wss://sb.example/vonage/media\0uuid\0CA0123\0event\0x",
          '[{"action":"talk","text":"hi"}]', " +1 202 555 0100 \0from\0+1"]:
    put("call_setup_docs", s)

# --- Twilio signature: token \0 url \0 header \0 name \0 value ... -----------------------
put("twilio_signature", "12345\0https://mycompany.com/myapp.php?foo=1&bar=2\0RSOYDt4T1cUTdK1PDd93/VVr8B8=\0"
    "Digits\x001234\0To\0+18005551212\0From\0+14158675309\0Caller\0+14158675309\0CallSid\0CA1234567890ABCDE")
put("twilio_signature", "tok\0https://u:p@[::1]:443/x#f\0 not base64 \0a\0b\0a\0b")
put("twilio_signature", "tok\0http://h:80\0AAAA\0")

# --- Vonage key: app id \0 PEM --------------------------------------------------------------
pem = open(os.path.join(REPO, "crates/transport/tests/data/test_only_vonage_private.pem")).read()
put("vonage_key", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab\0" + pem)
put("vonage_key", "app\0-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n")

# --- Agents ---------------------------------------------------------------------------------
FILES = ["agent.json", "intents/a.json", "intents/a_usersays_en.json", "entities/e.json",
         "entities/e_entries_en.json", "intents/b.json", "intents/b_usersays_en.json"]
for name, files in agents():
    # ZIP: the export as Dialogflow downloads it, and once inside a top folder.
    for prefix in ["", name + "/"]:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for rel, data in sorted(files.items()):
                z.writestr(zipfile.ZipInfo(prefix + rel, (2020, 1, 1, 0, 0, 0)), data,
                           zipfile.ZIP_DEFLATED)
        if not prefix or name == "bike-shop":
            put("agent_zip", buf.getvalue(), f"{name}{'-folder' if prefix else ''}.zip")
    # Folder/JSON: agent.json, then intents and entities in the slots of FILES.
    intents = sorted(k for k in files if k.startswith("intents/") and "_usersays_" not in k)
    entities = sorted(k for k in files if k.startswith("entities/") and "_entries_" not in k)
    for i in range(0, max(1, len(intents)), 2):
        pick = intents[i:i + 2]
        parts = [files["agent.json"]]
        for slot in range(2):
            it = pick[slot] if slot < len(pick) else None
            body = files.get(it, b"") if it else b""
            says = files.get(it[:-5] + "_usersays_en.json", b"") if it else b""
            if slot == 0:
                parts += [body, says]
                ent = entities[0] if entities else None
                parts += [files.get(ent, b"") if ent else b"",
                          files.get(ent[:-5] + "_entries_en.json", b"") if ent else b""]
            else:
                parts += [body, says]
        seed = b"\0".join(p.replace(b"\0", b"") for p in parts).rstrip(b"\0")
        if len(seed) <= 24_000:
            put("agent_json", seed)
# A tiny agent with an entity and the older embedded layout.
put("agent_json", b"\0".join([
    json.dumps({"language": "en", "defaultTimezone": "Europe/Paris", "displayName": "t",
                "webhook": {"url": "https://x/hook", "available": True},
                "onePlatformApiVersion": "v1legacy"}).encode(),
    json.dumps({"id": "1", "name": "a", "responses": [{"parameters": [
        {"name": "kind", "dataType": "@e", "value": "$kind", "required": True,
         "prompts": [{"lang": "en", "value": "Which $kind.original?"}]}],
        "messages": [{"type": 0, "lang": "en", "speech": ["Got $kind #ctx.x $session.params.y"]}],
        "affectedContexts": [{"name": "Ctx", "lifespan": 2}]}],
        "userSays": [{"data": [{"text": "a "}, {"text": "big", "alias": "kind", "meta": "@e"}]}]}).encode(),
    b"",
    json.dumps({"id": "e1", "name": "e", "isEnum": False, "automatedExpansion": False,
                "entries": [{"value": "big", "synonyms": ["big", "large"]}]}).encode(),
]))

# --- Webhook replies: [sel] body (sel bit 0 = V1) -------------------------------------------
v2 = [
    {"fulfillmentText": "Anything else?", "outputContexts": [
        {"name": "projects/p/agent/sessions/s/contexts/order", "lifespanCount": 2, "parameters": {"n": 1.5}}]},
    {"fulfillmentMessages": [{"text": {"text": ["a", "b"]}}, {"platform": "TELEPHONY",
     "telephonySynthesizeSpeech": {"ssml": "<speak>Hi</speak>"}}], "source": "x",
     "followupEventInput": {"name": "E", "languageCode": "en", "parameters": {"a": [1, None]}}},
    {"payload": {"google": {"richResponse": {"items": [{"simpleResponse": {
        "textToSpeech": "<speak>Order 7 is on its way.</speak>"}}, {"simpleResponse": {
        "displayText": "Anything else?"}}]}}}},
    {"fulfillmentText": None, "unknown": {"deep": [[[]]]}},
]
v1 = [
    {"speech": "Order 42 ships today.", "displayText": "Order 42: ships today",
     "contextOut": [{"name": "order-tracking", "lifespan": 3, "parameters": {"order": 42}}],
     "followupEvent": {"name": "ORDER_SHIPPED", "data": {"order": "42"}},
     "data": {"google": {"expectUserResponse": True}}, "source": "shop.example"},
    {"displayText": "Shown only", "messages": [{"type": 0, "speech": ["first variant", "second variant"]},
     {"type": 4, "payload": {"x": 1}}, {"type": 1, "title": "card", "buttons": [{"text": "b"}]},
     {"type": "simple_response", "platform": "google", "textToSpeech": "t"}]},
    {"messages": {"type": 0, "speech": "single"}},
]
for i, b in enumerate(v2):
    put("webhook_response", bytes([0 if i % 2 == 0 else 2]) + json.dumps(b).encode())
for b in v1:
    put("webhook_response", b"\x01" + json.dumps(b).encode())
put("webhook_response", b"\x0d  ")
put("webhook_response", b"\x01[1]")

# --- detectIntent: tail \n body -------------------------------------------------------------
for tail, body in [
    ("abc:detectIntent", {"queryInput": {"text": {"text": "hi", "languageCode": "en-US"}},
     "queryParams": {"timeZone": "Europe/Paris", "contexts": [{"name": "projects/p/agent/sessions/s/contexts/Order-Followup",
     "lifespanCount": 3, "parameters": {"a": 1}}], "resetContexts": True, "payload": {"x": "y"},
     "sentimentAnalysisRequestConfig": {"analyzeQueryTextSentiment": True}, "unknown": 1}}),
    ("a:b:detectIntent", {"query_input": {"event": {"name": "WELCOME", "parameters": {"p": [1]}}}}),
    ("s1:streamingDetectIntent", {"queryInput": {"audioConfig": {"audioEncoding": "AUDIO_ENCODING_LINEAR_16"}}}),
    ("x:detectIntent", {"queryInput": {"text": {"text": "hi"}, "event": {"name": "E"}},
     "query_params": {"time_zone": "Mars/Base", "contexts": [{"name": "c", "lifespan_count": -1}]}}),
]:
    put("detect_intent", tail + "\n" + json.dumps(body))
put("detect_intent", "a\u0001b:detectIntent\n{\"queryInput\":")

# --- WAV ------------------------------------------------------------------------------------
def chunk(cid, body):
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")

def wav(tag, ch, rate, bits, data, extra=b"", fmt_ext=b""):
    block = ch * bits // 8
    fmt = struct.pack("<HHIIHH", tag, ch, rate, rate * block, block, bits) + fmt_ext
    body = b"WAVE" + chunk(b"fmt ", fmt) + extra + chunk(b"data", data)
    return b"RIFF" + struct.pack("<I", len(body)) + body

sine16 = b"".join(struct.pack("<h", int(12000 * math.sin(i / 5))) for i in range(200))
put("wav", wav(1, 1, 16000, 16, sine16), "pcm16.wav")
put("wav", wav(1, 2, 8000, 8, bytes(128 + (i % 64) for i in range(160))), "pcm8-stereo.wav")
put("wav", wav(1, 1, 24000, 24, b"".join(struct.pack("<i", i * 5000)[:3] for i in range(100))), "pcm24.wav")
put("wav", wav(3, 1, 48000, 32, b"".join(struct.pack("<f", math.sin(i / 3)) for i in range(100))), "float32.wav")
put("wav", wav(7, 1, 8000, 8, bytes((i * 37) % 256 for i in range(160)), chunk(b"fact", struct.pack("<I", 160)),
    struct.pack("<H", 0)), "ulaw.wav")
put("wav", wav(6, 2, 8000, 8, bytes((i * 11) % 256 for i in range(161)), chunk(b"LIST", b"INFOISFT\x03\0\0\0ab\0\0")), "alaw-odd.wav")
put("wav", wav(0xFFFE, 1, 16000, 16, sine16[:80], fmt_ext=struct.pack("<HHHI", 22, 16, 0, 3) +
    bytes.fromhex("0100000000001000800000aa00389b71")), "extensible.wav")
put("wav", wav(1, 1, 16000, 16, sine16)[:60], "truncated.wav")

# --- G.711 / L16 bytes ----------------------------------------------------------------------
put("g711_pcm", bytes(range(256)), "all-bytes")
put("g711_pcm", sine16[:322], "sine-l16")
put("g711_pcm", b"\x7f\xff\x00\x80\x01", "zeros-and-ends")

# --- SSML -----------------------------------------------------------------------------------
for s in [
    "<speak>One<break time=\"500ms\"/>two</speak>",
    "<speak>a<break time='1.5s'/>b<break strength=\"x-strong\"/><break/>c</speak>",
    "<speak>Hi there, are you calling to make a reservation at <say-as interpret-as=\"characters\">OMG</say-as> Garden?</speak>",
    "<speak>Call <sub alias=\"World Wide Web Consortium\">W3C</sub> now on <say-as interpret-as=\"telephone\">+1 202 555 0100</say-as></speak>",
    "<speak>normal <prosody rate=\"slow\">slow <prosody rate=\"50%\">slower <prosody rate=\"+20%\">x</prosody></prosody></prosody> back</speak>",
    "<speak><p><s>First one</s><s>Second one?</s></p><p>Next</p></speak>",
    "<speak>Music <audio src=\"https://x/a.wav\"><desc>piano</desc>a tune</audio> done</speak>",
    "<speak><emphasis level=\"strong\">Very</emphasis> <foo:bar x=\"1\">good</foo:bar><mark name=\"m\"/><!-- note --><?pi x?></speak>",
    "<speak>Fish &amp; chips &#x41; &#65; 1 &lt; 2 &gt; 0 <![CDATA[<raw>]]></speak>",
    "<speak><say-as interpret-as=\"date\" format=\"mdy\">12/25/2024</say-as> at <say-as interpret-as=\"time\">10:30pm</say-as>, "
    "<say-as interpret-as=\"ordinal\">3</say-as> <say-as interpret-as=\"cardinal\">-1,234.5</say-as> <say-as interpret-as=\"digits\">0042</say-as></speak>",
    "<speak>Hello <break time=\"1s\"> there</speak>",
    "<speak>Tom &nbsp; Jerry</speak>",
    "Plain text on 3/4/2025 at 10:00 for $12.50, 1st, 2nd & 100%",
]:
    put("ssml", s)
# --- Dialog turns on the example agent: bodies \0-separated, \x01 then a webhook reply -------
def body(text=None, event=None, **params):
    qi = {"text": {"text": text, "languageCode": "en"}} if text else {"event": {"name": event, "languageCode": "en"}}
    b = {"queryInput": qi}
    if params:
        b["queryParams"] = params
    return json.dumps(b)

reply = json.dumps({"fulfillmentText": "Booked, $name!", "outputContexts": [
    {"name": "projects/p/agent/sessions/fuzz/contexts/booking", "lifespanCount": 2, "parameters": {"x": 1}}]})
for turns in [
    [body("hi"), body("I would like to book a table at 10:00 am on 01/09/2022 for Tanya") + "\x01" + reply, body("bye")],
    [body("book a table"), body("tomorrow at 7pm"), body("for Ada Lovelace"), body("for 4 people") + "\x01" + reply],
    [body(event="WELCOME"), body("let me check my diary first"), body("I want to talk to a person")],
    [body("table for two next friday at half past eight", timeZone="Europe/Paris",
          contexts=[{"name": "booking", "lifespanCount": 3, "parameters": {"name": "Bo"}}]),
     body("the 3rd of march 2031 at 18:45") + "\x01" + json.dumps({"followupEventInput": {"name": "WELCOME"}}),
     body("zzz qqq")],
]:
    put("dialog_turn", "\0".join(turns))
print("corpus written to", OUT)
