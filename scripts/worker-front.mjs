// The local server's HTTP front: takes the place of wrangler's ProxyWorker between clients and the
// Worker's miniflare, as wrangler's proxy controller (it is told of every reload). wrangler's
// ProxyWorker (wrangler 4.86) breaks clients apart from the one at fault, which production never does:
// - it relays every request to the Worker over pooled connections; when the Worker refuses a body
//   early (over the cap, bad token) and more than workerd's 1 MiB grace is still to come, workerd
//   closes that connection, the relay reuses it for the next client's request, and that request fails;
// - it takes every failed relay for a restart of the Worker (its check compares a URL that includes
//   the path with one that does not), so that next request is answered 503 "Your worker restarted
//   mid-request" and never executed; a GET or HEAD is queued for a retry instead, and when it had a
//   body (a client that declared one and hung up), rebuilding it throws "Cannot reconstruct a Request
//   with a used body" inside the next request's handling, which answers 500.
// Here a request with a large, chunked or unfinished body gets its own connection to the Worker,
// closed with it (small ones share kept-alive connections, which stay usable: POOLED_BODY_BYTES); a body the Worker refused
// before it arrived is dropped for a second after the answer, then the client's connection closes; a
// client that hangs up cuts only its own request. Bodiless GET and HEAD requests cut by a reload are
// sent again to the new build, as wrangler intends.
import { Agent, createServer, request as httpRequest } from "node:http";
import { Socket } from "node:net";

/**
 * Paths only the Worker answers (its routes; the site has no pages under them). The front sends
 * them past wrangler's asset router straight to the Worker (miniflare's `MF-Route-Override`), as
 * Cloudflare does for a path with no asset, and saves the router's and the asset worker's hops on
 * every API request. Anything else (the site, and a path that may be an asset) takes the router.
 */
const WORKER_PATHS = /^\/(?:api\/|ajax-api\/|health(?:\?|$)|version(?:\?|$))/;

/** Whether a request target (path and query) is one only the Worker answers (see WORKER_PATHS). */
export const isWorkerPath = (target) => WORKER_PATHS.test(target);

/** The local site's poller (scripts/live-site.mjs), left out of the request log: it asks every 2 s. */
const LIVE_SITE_AGENT = "kdgat-live-site";

/** Request headers that belong to one hop (the front answers `Expect: 100-continue` itself). */
const HOP_REQUEST_HEADERS = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"];
const HOP_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding"]);
/** How long the rest of a refused body is still read and dropped (workerd allows 1 s, too). */
const REFUSED_BODY_GRACE_MS = 1_000;
/**
 * Requests with no body or a declared body up to this size go over kept-alive connections to the
 * Worker (saving a TCP connection per request on both sides): workerd reads and drops up to 1 MiB
 * of a body it refused and keeps such a connection usable. Larger, chunked or unfinished bodies get
 * a connection of their own, closed with the request, as above.
 */
const POOLED_BODY_BYTES = 256 * 1024;

/**
 * Listens on hostname:port; resolves to {controller} once listening. controller is the proxy controller
 * wrangler's DevEnv drives: requests wait while a new build is loading and go to the latest one.
 * logRequests: print one line per request (method, path, status, time), as `wrangler dev` does.
 * nextReload(): resolves once the next build of the Worker serves.
 */
export async function startWorkerFront({ hostname, port, logRequests }) {
  /** The Worker's miniflare ({url, headers, workerName} from wrangler's reloadComplete); undefined while reloading. */
  let upstream;
  let waiting = [];
  let reloadWaiters = [];
  const serving = () => (upstream ? Promise.resolve(upstream) : new Promise((resolve) => waiting.push(resolve)));

  // Headers up to the 128 KB that Cloudflare accepts (Node's default is 16 KB; workerd takes more).
  const server = createServer({ maxHeaderSize: 128 * 1024 }, async (req, res) => {
    const started = performance.now();
    if (logRequests && req.headers["user-agent"] !== LIVE_SITE_AGENT) {
      res.once("finish", () => {
        const path = (req.url ?? "").split("?")[0];
        console.log(`${req.method} ${path} ${res.statusCode} (${Math.round(performance.now() - started)}ms)`);
      });
    }
    relay(req, res, await serving());
  });

  function relay(req, res, target) {
    if (res.closed) return; // the client left while the Worker was reloading
    const headers = { ...req.headers, ...target.headers, "mf-original-url": `http://${req.headers.host ?? `${hostname}:${port}`}${req.url}` };
    if (target.workerName && isWorkerPath(req.url ?? "")) headers["mf-route-override"] = target.workerName;
    else delete headers["mf-route-override"];
    for (const name of HOP_REQUEST_HEADERS) delete headers[name];
    const pooled = isSmall(req);
    const forwarded = httpRequest({
      method: req.method,
      path: req.url,
      headers,
      ...(pooled
        ? { agent: target.agent, host: target.url.hostname, port: Number(target.url.port) }
        : {
            // noDelay: the head and the body's first bytes go at once (Nagle's algorithm held them back and cut throughput).
            createConnection: () => new WorkerConnection().connect({ port: Number(target.url.port), host: target.url.hostname, noDelay: true }),
          }),
    });
    let answered = false;
    forwarded.on("response", (answer) => {
      answer.once("end", () => (answered = true));
      const answerHeaders = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_RESPONSE_HEADERS.has(answer.rawHeaders[i].toLowerCase())) answerHeaders.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders);
      answer.pipe(res);
    });
    forwarded.on("error", async () => {
      if (res.writableFinished) return;
      if (res.headersSent) return res.destroy();
      const reloaded = upstream !== target;
      if (reloaded && isBodiless(req)) return relay(req, res, await serving());
      res.writeHead(503, { "Content-Type": "application/json", "Retry-After": "1" });
      res.end(JSON.stringify({ error_code: "TEMPORARILY_UNAVAILABLE", message: "The local Worker dropped the request (it may be reloading). Retry." }));
    });
    // Whichever way the exchange ends (answered, or the client gone), its connection to the Worker
    // goes, but for a pooled one whose request and answer both completed: that one is reused.
    res.once("close", () => {
      if (!(pooled && answered && req.complete)) forwarded.destroy();
    });
    res.once("finish", () => {
      if (!req.complete) discardRefusedBody(req);
    });
    if (req.readableEnded)
      forwarded.end(); // a bodiless request sent again
    else req.pipe(forwarded);
  }

  // Idle keep-alive connections stay open for a minute (Node's default is 5 s): a busy client that
  // reuses one just as the server closes it gets "socket hang up" for a request it never sent.
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, resolve);
  });

  /** The newest build's target, also while the next one is loading (its agent's connections are closed after a reload). */
  let latest;
  const pause = () => (upstream = undefined);
  const controller = {
    onConfigUpdate: pause,
    onBundleStart: pause,
    onReloadStart: pause,
    onReloadComplete({ proxyData, config }) {
      const { protocol, hostname: workerHost, port: workerPort } = proxyData.userWorkerUrl;
      // With the inspector on (KDGAT_INSPECTOR_PORT), where the Worker isolate's DevTools endpoint is.
      const inspector = proxyData.userWorkerInspectorUrl;
      if (inspector) console.log(`inspector: ws://${inspector.hostname}:${inspector.port}${inspector.pathname}`);
      // The previous build's kept-alive connections go once what still uses them is done.
      const previous = latest;
      if (previous) setTimeout(() => previous.agent.destroy(), 10_000).unref();
      latest = upstream = {
        url: new URL(`${protocol}//${workerHost}:${workerPort}`),
        headers: proxyData.headers ?? {},
        workerName: config?.name,
        agent: new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, noDelay: true }),
      };
      for (const resolve of waiting) resolve(upstream);
      waiting = [];
      for (const resolve of reloadWaiters) resolve();
      reloadWaiters = [];
    },
    async teardown() {
      latest?.agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  /** Resolves when the next build of the Worker serves (requests wait meanwhile). */
  const nextReload = () => new Promise((resolve) => reloadWaiters.push(resolve));
  return { controller, nextReload };
}

/**
 * A connection of its own to the Worker for one request. A write that fails leaves its reading side
 * alone: workerd answers a body it refuses, stops reading it and resets the connection, and Node's
 * sockets would then drop on the failed write an answer that is there to be read.
 */
class WorkerConnection extends Socket {
  _write(chunk, encoding, callback) {
    super._write(chunk, encoding, () => callback());
  }

  _writev(chunks, callback) {
    super._writev(chunks, () => callback());
  }
}

/**
 * The Worker answered before the whole body arrived (it refused it): what still comes is read and
 * dropped for a moment, so that the client gets to read the answer (closing on unread data resets
 * the connection, answer included), then the connection closes unless the body has ended by then.
 */
function discardRefusedBody(req) {
  const close = setTimeout(() => req.socket.destroy(), REFUSED_BODY_GRACE_MS);
  req.once("end", () => clearTimeout(close));
  req.resume();
}

/** A request without a body or with a declared body of at most POOLED_BODY_BYTES (see there). */
function isSmall(req) {
  if (req.headers["transfer-encoding"]) return false;
  return Number(req.headers["content-length"] ?? 0) <= POOLED_BODY_BYTES;
}

/** A request without a body, which can be sent again. */
function isBodiless(req) {
  return (req.method === "GET" || req.method === "HEAD") && !req.headers["transfer-encoding"] && Number(req.headers["content-length"] ?? 0) === 0;
}
