// Fulfillment webhooks written with Google's own Node libraries, for the server's tests:
//   POST /fulfillment  dialogflow-fulfillment's WebhookClient (it reads V1 and V2 requests alike)
//   POST /assistant    actions-on-google v2's dialogflow() app
// Prints "listening PORT" once it accepts connections (PORT=0, the default, picks a free port).
'use strict';

const express = require('express');
const { WebhookClient } = require('dialogflow-fulfillment');
const { dialogflow } = require('actions-on-google');

const server = express();
server.use(express.json());

server.post('/fulfillment', (request, response) => {
  const agent = new WebhookClient({ request, response });
  const payload = (agent.originalRequest && agent.originalRequest.payload) || {};
  // What the library read from the request, for the test to compare with what it sent.
  const seen = () => [
    `intent=${agent.intent}`,
    `action=${agent.action}`,
    `query=${agent.query}`,
    `locale=${agent.locale}`,
    `parameters=${JSON.stringify(agent.parameters)}`,
    `contexts=${agent.contexts.map((c) => `${c.name}:${c.lifespan}`).sort().join(',')}`,
    `source=${agent.requestSource}`,
    `channel=${payload.channel}`,
    `version=${agent.agentVersion}`,
  ].join(' ');

  const intents = new Map();
  intents.set('Track Order', (agent) => {
    const order = agent.parameters.order;
    agent.add(`Order ${order} is on the van.`);
    agent.add(seen());
    agent.setContext({ name: 'order-tracking', lifespan: 3, parameters: { order, van: 'V7' } });
  });
  intents.set('Opening Hours', (agent) => {
    agent.add('One moment.');
    agent.setFollowupEvent({ name: 'ORDER_SHIPPED', parameters: { order: 31 } });
  });
  intents.set('Welcome', (agent) => {
    agent.add(seen());
  });
  agent.handleRequest(intents).catch((e) => {
    response.status(500).send(String(e));
  });
});

const app = dialogflow();
app.intent('Track Order', (conv, params) => {
  conv.contexts.set('order-tracking', 4, { order: params.order, van: 'V9' });
  conv.ask(`Assistant here: order ${params.order} is on the van.`);
});
app.intent('Opening Hours', (conv) => {
  conv.followup('ORDER_SHIPPED', { order: 58 });
});
app.intent('Welcome', (conv) => {
  conv.ask(`Assistant welcome for ${conv.intent} (${conv.query}).`);
});
server.post('/assistant', app);

const listener = server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening ${listener.address().port}`);
});
