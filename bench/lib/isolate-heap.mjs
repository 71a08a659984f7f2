// The Worker isolate's own JS heap, read through workerd's DevTools inspector (V8's
// Runtime.getHeapUsage), apart from the local D1: that runs in the same workerd process but in
// SQLite's native memory and another isolate, so the process RSS cannot tell them apart. The local
// server prints the isolate's inspector address when started with an inspectorPort
// (scripts/worker-front.mjs). Needs Node's WebSocket (Node 22, or Node 20 with --experimental-websocket).

/** Connects to the isolate's inspector at the address the server printed; {sampled, close}. */
export async function isolateHeap(serverOutput) {
  const address = /inspector: (ws:\/\/\S+)/.exec(serverOutput())?.[1];
  if (!address) throw new Error("the server printed no inspector address (start it with inspectorPort)");
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
  const usedMb = async () => (await send("Runtime.getHeapUsage")).usedSize / 1024 / 1024;
  return {
    /**
     * Runs fn while asking for the heap every ~10 ms (answered between the handler's steps, when the
     * isolate is not running JS); a garbage collection is asked for first, so baseline is about what the Worker keeps.
     */
    async sampled(fn) {
      await send("HeapProfiler.enable", 2_000);
      await send("HeapProfiler.collectGarbage", 5_000);
      const baselineMb = await usedMb();
      let peakMb = baselineMb;
      let samples = 0;
      let running = true;
      const poll = (async () => {
        while (running) {
          peakMb = Math.max(peakMb, await usedMb());
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
      return { value, baselineMb, peakMb, samples };
    },
    close: () => socket.close(),
  };
}
