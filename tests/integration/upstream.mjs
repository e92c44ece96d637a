// A small OpenAI-compatible upstream for the integration test: answers POST /v1/chat/completions
// with a canned completion and, acting as the gateway's log shipper, posts the exchange-log line
// of every request to distillguard's POST /v1/events before answering (so by the next request the
// event is durable and being scored). Honours the degrade headers nginx forwards from
// distillguard (x-dg-strip, x-dg-cap-max-tokens) by dropping logprobs / capping max_tokens.
// Like vLLM, it watermarks unless the request says "watermarking": false, and reports whether it
// did in the answer (`watermarked`); a request that still opts out although nginx was told to
// strip the opt-out (x-dg-strip: watermarking) is answered 500, which fails the client.
// Usage: node upstream.mjs PORT DG_URL DG_TOKEN
import http from 'node:http';

const [port, dgUrl, dgToken] = process.argv.slice(2);
let batch = 0;

http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    if (req.method !== 'POST' || !req.url.startsWith('/v1/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
    }
    let request = {};
    try { request = JSON.parse(body); } catch { request = {}; }
    const strip = (req.headers['x-dg-strip'] || '').split(',').filter(Boolean);
    const optsOut = request.watermarking === false || request.metadata?.watermarking === false;
    if (strip.includes('watermarking') && optsOut) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'watermarking opt-out reached the model although it had to be stripped', type: 'server_error' } }));
    }
    const completionTokens = Math.min(request.max_tokens || 800, 800);
    const choice = { index: 0, message: { role: 'assistant', content: 'Step 1: ... Final answer: 42.' }, finish_reason: 'stop' };
    if (request.logprobs && !strip.includes('logprobs')) choice.logprobs = { content: [] };
    const usage = { prompt_tokens: 40, completion_tokens: completionTokens, total_tokens: 40 + completionTokens };
    const line = {
      ts: new Date().toISOString(),
      request_id: `req_${Date.now()}_${batch}`,
      account_id: req.headers['openai-organization'] || 'unknown',
      api_key_id: 'key_' + (req.headers['authorization'] || '').slice(-6),
      client_ip: req.headers['x-real-ip'] || '127.0.0.1',
      user_agent: req.headers['user-agent'] || '',
      endpoint: '/v1/chat/completions',
      request,
      response: { status: 200, usage },
    };
    try {
      const r = await fetch(`${dgUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dgToken}`, 'content-type': 'application/x-ndjson', 'x-dg-batch-id': String(++batch) },
        body: JSON.stringify(line) + '\n',
      });
      if (!r.ok) console.error('upstream: events post failed', r.status);
    } catch (e) {
      console.error('upstream: events post error', e.message);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: `chatcmpl-${batch}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000),
      model: request.model || 'gpt-4o', choices: [choice], usage,
      watermarked: request.watermarking !== false, dg_strip: strip,
    }));
  });
}).listen(Number(port), '127.0.0.1', () => console.error(`upstream: listening on ${port}`));
