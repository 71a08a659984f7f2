// PUT /api/<key> stores the request body as it is; GET /api/<key> answers R2's body untouched.
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (!pathname.startsWith("/api/")) return new Response("OK");
    const key = decodeURIComponent(pathname.slice("/api/".length));
    if (request.method === "PUT") {
      await env.ARTIFACTS.put(key, request.body);
      return new Response("{}");
    }
    const object = await env.ARTIFACTS.get(key);
    return object ? new Response(object.body) : new Response("no such key", { status: 404 });
  },
};
