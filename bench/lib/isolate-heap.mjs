// The Worker isolate's own JS heap, read through workerd's DevTools inspector (V8's
// Runtime.getHeapUsage), apart from the local D1: that runs in the same workerd process but in
// SQLite's native memory and another isolate, so the process RSS cannot tell them apart. The local
// server prints the isolate's inspector address when started with an inspectorPort
// (scripts/worker-front.mjs). Needs Node's WebSocket (Node 22, or Node 20 with --experimental-websocket).
// The same inspector also serves workerd's other isolates by service name, such as miniflare's R2
// simulation ("r2:bucket"), whose ArrayBuffers (the bytes it holds) show in backingStorageSize.

const MiB = 1024 * 1024;

/**
 * Connects to the inspector of the Worker's isolate at the address the server printed (or, with
 * `isolate`, of that service's isolate on the same inspector); {sampled, close}.
 */
export async function isolateHeap(serverOutput, { isolate } = {}) {
  const printed = /inspector: (ws:\/\/\S+)/.exec(serverOutput())?.[1];
  if (!printed) throw new Error("the server printed no inspector address (start it with inspectorPort)");
  const address = isolate ? `${new URL(printed).origin}/${isolate}` : printed;
  if (typeof WebSocket === "undefined") throw new Error("no WebSocket in this Node: run it with node --experimental-websocket");
  const socket = new WebSocket(address);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot open ${address}`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message.result ?? {});
    pending.delete(message.id);
  });
  /** A DevTools call; a method workerd does not answer resolves to {} after timeoutMs. */
  const send = (method, timeoutMs = 30_000) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method }));
      setTimeout(() => pending.get(id)?.({}), timeoutMs).unref();
    });
  /** The JS heap in use and the ArrayBuffers' backing stores (the bytes of chunks), MiB. */
  const usage = async () => {
    const heap = await send("Runtime.getHeapUsage");
    return { used: (heap.usedSize ?? 0) / MiB, backing: (heap.backingStorageSize ?? 0) / MiB };
  };
  return {
    /**
     * Runs fn while asking for the heap every ~10 ms (answered between the handler's steps, when the
     * isolate is not running JS); a garbage collection is asked for first, so baseline is about what the Worker keeps.
     * baselineMb/peakMb: the JS heap; baselineBackingMb/peakBackingMb: the ArrayBuffers' bytes.
     */
    async sampled(fn) {
      await send("HeapProfiler.enable", 2_000);
      await send("HeapProfiler.collectGarbage", 5_000);
      const baseline = await usage();
      let peakMb = baseline.used;
      let peakBackingMb = baseline.backing;
      let samples = 0;
      let running = true;
      const poll = (async () => {
        while (running) {
          const now = await usage();
          peakMb = Math.max(peakMb, now.used);
          peakBackingMb = Math.max(peakBackingMb, now.backing);
          samples++;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      let value;
      try {
        value = await fn();
      } finally {
        running = false;
        await poll;
      }
      return { value, baselineMb: baseline.used, peakMb, baselineBackingMb: baseline.backing, peakBackingMb, samples };
    },
    close: () => socket.close(),
  };
}
