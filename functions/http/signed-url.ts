/**
 * Signed URLs for the parts of a proxied multipart upload. MLflow's client PUTs each part to the URL
 * mpu/create gave it with a bare `requests.put`, without its token (as it would to an S3 presigned
 * URL), so the URL itself carries the permission: an HMAC-SHA256, keyed from the Worker secret
 * ADMIN_TOKEN, over what the URL may write (the R2 key, the upload id, the part number) and until when.
 */
import { toHex } from "../domain/hex";
import { ApiError } from "../errors";

/** How long a part URL stays valid: a slow link may take hours for a large checkpoint. */
export const PART_URL_LIFETIME_MS = 24 * 60 * 60 * 1000;

async function signingKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new TextEncoder().encode(`kdgat mpu part v1:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

const message = (fields: readonly (string | number)[]) => new TextEncoder().encode(fields.join("\n"));

/** The hex signature of `fields` (the last one: the expiry, epoch ms). */
export async function sign(secret: string, fields: readonly (string | number)[]): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await signingKey(secret), message(fields)));
}

const refused = (why: string) => new ApiError("PERMISSION_DENIED", `This part upload URL is ${why}; ask mpu/create for new ones.`);

/** Refuses a part URL whose signature does not match `fields` or whose expiry has passed. */
export async function verify(secret: string, fields: readonly (string | number)[], expires: number, signature: string): Promise<void> {
  const bytes = /^[0-9a-f]{64}$/.test(signature) ? new Uint8Array(signature.match(/../g)!.map((pair) => parseInt(pair, 16))) : undefined;
  if (!bytes || !(await crypto.subtle.verify("HMAC", await signingKey(secret), bytes, message([...fields, expires])))) throw refused("not valid");
  if (!(expires > Date.now())) throw refused("expired");
}
