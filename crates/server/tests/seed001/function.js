// A test double of the Twilio Function in Twilio's "Connect Twilio with your Dialogflow Agent"
// guide (the end-of-interaction handler of its Media Streams sample): the guide's handler
// logic, served the way the Twilio Functions runtime serves a Function (query string and form
// body merged into `event`, the env as `context`, `Twilio.twiml.VoiceResponse` as a global),
// with Node's standard library only.
//
// Before running the handler it checks that `dialogflowJSON` arrived as the sample's redirect
// writes it: `encodeURIComponent(JSON.stringify(queryResult))`, byte for byte, where the
// sample's queryResult is `{intent: {name, displayName}, parameters}`. A mismatch is a 500.
//
// First line on stdout: `listening PORT`. Env: PORT (0 = any), AGENT_NUMBER.
'use strict';
const http = require('http');

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// The part of the Functions runtime's TwiML helper the handler uses.
class VoiceResponse {
  constructor() { this.verbs = []; }
  dial(number) { this.verbs.push(`<Dial>${esc(number)}</Dial>`); return this; }
  hangup() { this.verbs.push('<Hangup/>'); return this; }
  toString() {
    return `<?xml version="1.0" encoding="UTF-8"?><Response>${this.verbs.join('')}</Response>`;
  }
}
global.Twilio = { twiml: { VoiceResponse } };

// The guide's Function.
const handler = function (context, event, callback) {
  const twiml = new Twilio.twiml.VoiceResponse();
  const dialogflow = JSON.parse(event.dialogflowJSON);
  switch (dialogflow.intent.displayName) {
    case 'speak-to-an-agent':
      console.log(`Dialing agent number configured in environment: ${context.AGENT_NUMBER}`);
      twiml.dial(context.AGENT_NUMBER);
      break;
    default:
      console.error(`Intent: "${dialogflow.intent.displayName}" (${dialogflow.intent.name}) was not handled.`);
      twiml.hangup();
  }
  callback(null, twiml);
};

// `dialogflowJSON` as the raw query has it (still percent-encoded).
function rawField(url, name) {
  const q = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const part of q.split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) return part.slice(eq + 1);
  }
  return undefined;
}

function check(url, event) {
  const raw = rawField(url, 'dialogflowJSON');
  if (raw === undefined) return 'no dialogflowJSON in the query';
  let parsed;
  try { parsed = JSON.parse(event.dialogflowJSON); } catch (e) { return `not JSON: ${e.message}`; }
  const sample = {
    intent: { name: parsed.intent && parsed.intent.name, displayName: parsed.intent && parsed.intent.displayName },
    parameters: parsed.parameters,
  };
  const text = JSON.stringify(sample);
  if (text !== event.dialogflowJSON) return `JSON differs from the sample's: ${event.dialogflowJSON} vs ${text}`;
  if (encodeURIComponent(text) !== raw) return `encoding differs from encodeURIComponent: ${raw}`;
  return null;
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const event = {};
    const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    for (const [k, v] of query) event[k] = v;
    for (const [k, v] of new URLSearchParams(body)) event[k] = v;
    const problem = check(req.url, event);
    if (problem) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(problem);
      return;
    }
    try {
      handler({ AGENT_NUMBER: process.env.AGENT_NUMBER }, event, (err, twiml) => {
        if (err) { res.writeHead(500); res.end(String(err)); return; }
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(twiml.toString());
      });
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`the Function threw: ${e.message}`);
    }
  });
});
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
