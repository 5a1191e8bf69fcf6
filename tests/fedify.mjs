// A remote fediverse server on 127.0.0.1 built on Fedify (@fedify/fedify, an ActivityPub
// server framework from npm; tests/test_activitypub_fedify.py installs it into a cache
// folder and drives this script). Nothing here is scofeed code: what Fedify accepts, a
// server built on it accepts.
//
//   node fedify.mjs UPSTREAM_PORT CERT KEY   (FEDIFY_MODULES: the node_modules folder;
//                                            UPSTREAM_PORT 0: no TLS port)
//
// It serves, on 127.0.0.1:
// - bob's server: the actor /users/bob (a Person, an RSA key for HTTP Signatures and an
//   Ed25519 key for Object Integrity Proofs), its inbox /users/bob/inbox and the shared
//   inbox /inbox, where Fedify's own federation checks each POST (the signature, the key
//   against the activity's actor, the activity parsed by its vocabulary);
// - a TLS port in front of scofeed at UPSTREAM_PORT, as nginx would be (CERT, KEY: PEM
//   files; node is run with NODE_EXTRA_CA_CERTS naming their CA): an `acct:` handle is
//   looked up with WebFinger over https only, as on Mastodon.
//
// Prints one line, {"port": bob's port, "tls": the TLS port}, then answers commands: one
// JSON line on stdin, {"do": ..., ...}, one JSON line out, {"ok": result} or
// {"error": text, "logs": [Fedify's log lines since the last command]}.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createServer as createTlsServer } from "node:tls";
import { pathToFileURL } from "node:url";

// The packages are installed outside the repository, and an ES module does not look in
// NODE_PATH: each is imported from its folder, by its package.json's `import` entry.
async function load(name) {
  const folder = join(process.env.FEDIFY_MODULES, name);
  const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const imported = meta.exports?.["."]?.import;
  const entry = imported?.default ?? imported ?? meta.module ?? meta.main;
  return import(pathToFileURL(join(folder, entry)).href);
}

const F = await load("@fedify/fedify");
const { configure } = await load("@logtape/logtape");

const logs = [];
await configure({
  sinks: {
    memory: (record) => logs.push(`${record.category.join(".")} ${record.level}: ` +
      record.message.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join("")),
  },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["memory"] },
    { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
  ],
});

const [upstream, certFile, keyFile] = process.argv.slice(2);
const documentLoader = F.getDocumentLoader({ allowPrivateAddress: true });
const loaders = { documentLoader, contextLoader: documentLoader };
const federation = F.createFederation({ kv: new F.MemoryKvStore(), allowPrivateAddress: true });
const keys = [  // bob's: RSA for HTTP Signatures, Ed25519 for Object Integrity Proofs
  await F.generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await F.generateCryptoKeyPair("Ed25519"),
];

const posts = [];  // POSTs to the inboxes, as recorded by `serve` below
const waiting = [];  // resolvers of `next` commands waiting for one
const gets = [];  // GETs of bob's actor: who signed them, as Fedify verified it
const parsed = new Map();  // activity id -> the activity as the inbox listener saw it

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "bob") return null;
    const pairs = await ctx.getActorKeyPairs(identifier);
    return new F.Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Bob",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new F.Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: pairs[0].cryptographicKey,
      assertionMethods: pairs.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher(async () => keys)
  // authorized fetch as Mastodon's secure mode does it, but every GET is let through:
  // who signed it is only written down
  .authorize(async (ctx, identifier, signedKey, signedKeyOwner) => {
    gets.push({ path: new URL(ctx.url).pathname, agent: ctx.request.headers.get("user-agent"),
      key: signedKey?.id?.href ?? null, owner: signedKeyOwner?.id?.href ?? null });
    return true;
  });

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(F.Activity, async (ctx, activity) => {
    parsed.set(activity.id?.href, await describe(activity));
  })
  .onError(async (ctx, error) => {
    logs.push(`inbox listener error: ${error}`);
  });

// -- what Fedify's vocabulary made of a document, as plain JSON ---------------------------

const href = (value) => (value == null ? null : value.href ?? String(value));
const when = (value) => (value == null ? null : value.toString());

// `nested`: an activity inside another (the Follow an Accept answers) keeps its object as
// an id, not fetched
async function describe(object, nested = false) {
  if (object == null) return null;
  const out = { type: object.constructor.name, id: href(object.id) };
  if (F.isActor(object)) {
    const key = await object.getPublicKey(loaders);
    Object.assign(out, {
      preferredUsername: object.preferredUsername?.toString() ?? null,
      name: object.name?.toString() ?? null,
      summary: object.summary?.toString() ?? null,
      url: href(object.url),
      inbox: href(object.inboxId),
      outbox: href(object.outboxId),
      followers: href(object.followersId),
      following: href(object.followingId),
      sharedInbox: href(object.endpoints?.sharedInbox),
      manuallyApprovesFollowers: object.manuallyApprovesFollowers,
      discoverable: object.discoverable,
      indexable: object.indexable,
      publicKey: key && {
        id: href(key.id), owner: href(key.ownerId), algorithm: key.publicKey?.algorithm?.name,
        bits: key.publicKey?.algorithm?.modulusLength ?? null,
      },
    });
    return out;
  }
  if (object instanceof F.Activity) {
    Object.assign(out, {
      actor: href(object.actorId),
      to: object.toIds.map(href),
      cc: object.ccIds.map(href),
      published: when(object.published),
      // as sent: a Fedify since 1.7 fetches an object embedded from another origin
      // again by its id (the Follow an Accept echoes), unless told to trust it
      object: nested ? href(object.objectId)
        : await describe(await object.getObject({ ...loaders, crossOrigin: "trust" }), true),
    });
    return out;
  }
  if (object instanceof F.Collection || object instanceof F.CollectionPage) {
    Object.assign(out, {
      totalItems: object.totalItems,
      first: href(object.firstId),
      last: href(object.lastId),
    });
    return out;
  }
  const tags = [];
  for await (const tag of object.getTags(loaders)) {
    tags.push({ type: tag.constructor.name, name: tag.name?.toString() ?? null, href: href(tag.href) });
  }
  Object.assign(out, {
    attributedTo: href(object.attributionId),
    name: object.name?.toString() ?? null,
    content: object.content?.toString() ?? null,
    contents: object.contents.map((c) => ({ language: c.language?.compact?.() ?? c.language?.toString() ?? null,
      value: c.toString() })),
    url: href(object.url),
    to: object.toIds.map(href),
    cc: object.ccIds.map(href),
    published: when(object.published),
    updated: when(object.updated),
    deleted: when(object.deleted),
    tags,
  });
  return out;
}

// -- commands ------------------------------------------------------------------------

let port;
const context = () => federation.createContext(new URL(`http://127.0.0.1:${port}/`), undefined);
const bob = () => context().getActorUri("bob");

const commands = {
  // the actor a handle (`acct:u@host`, `@u@host`) or URL names, fetched and parsed; the
  // WebFinger answer for it (an acct: handle) and the one back from the actor's id, as a
  // server checks a handle
  async lookup({ handle }) {
    const jrd = handle.startsWith("acct:")
      ? await F.lookupWebFinger(handle, { allowPrivateAddress: true }) : null;
    const actor = await F.lookupObject(handle, { ...loaders, allowPrivateAddress: true });
    if (actor == null) throw new Error(`lookupObject(${handle}) found nothing`);
    const back = await F.lookupWebFinger(actor.id, { allowPrivateAddress: true });
    return { jrd, actor: await describe(actor), back };
  },
  // any document, fetched (Accept: application/activity+json) and parsed
  async get({ url, items }) {
    const { document } = await documentLoader(url);
    const object = await F.Object.fromJsonLd(document, loaders);
    const out = { raw: document, parsed: await describe(object) };
    if (items) {
      out.items = [];
      for await (const item of F.traverseCollection(object, loaders)) {
        out.items.push(await describe(item));
      }
    }
    return out;
  },
  // documents given (not fetched), each parsed: what the vocabulary made of it, or why not
  async parse({ documents }) {
    const out = [];
    for (const document of documents) {
      try {
        out.push({ parsed: await describe(await F.Object.fromJsonLd(document, loaders)) });
      } catch (error) {
        out.push({ error: String(error) });
      }
    }
    return out;
  },
  // which of these URLs Node's WHATWG URL parser, the one Fedify's vocabulary uses, reads
  async urls({ urls }) {
    return urls.map((url) => { try { new URL(url); return true; } catch { return false; } });
  },
  // `embed`: the followed actor embedded whole, as some Fedify apps send it, not its id;
  // `shared`: to the shared inbox
  async follow({ actor, embed = false, shared = false }) {
    const target = await F.lookupObject(actor, { ...loaders, allowPrivateAddress: true });
    const follow = new F.Follow({
      id: new URL(`#follows/${crypto.randomUUID()}`, bob()), actor: bob(),
      object: embed ? target : target.id,
    });
    await context().sendActivity({ identifier: "bob" }, target, follow,
      { immediate: true, preferSharedInbox: shared });
    return { id: follow.id.href };
  },
  // to the shared inbox, as Fedify sends to many followers of one server
  // `byId`: the Follow named by its id only, not embedded
  async undo({ actor, follow, byId = false }) {
    const target = await F.lookupObject(actor, { ...loaders, allowPrivateAddress: true });
    const undo = new F.Undo({
      id: new URL(`#undos/${crypto.randomUUID()}`, bob()), actor: bob(),
      object: byId ? new URL(follow)
        : new F.Follow({ id: new URL(follow), actor: bob(), object: target.id }),
    });
    await context().sendActivity({ identifier: "bob" }, target, undo,
      { immediate: true, preferSharedInbox: true });
    return { id: undo.id.href };
  },
  // bob's account deleted: Delete{bob}, as his server tells every server he followed on
  async delete_self({ actor }) {
    const target = await F.lookupObject(actor, { ...loaders, allowPrivateAddress: true });
    const del = new F.Delete({
      id: new URL(`#delete/${crypto.randomUUID()}`, bob()), actor: bob(), object: bob(),
      tos: [new URL("https://www.w3.org/ns/activitystreams#Public")],
    });
    await context().sendActivity({ identifier: "bob" }, target, del,
      { immediate: true, preferSharedInbox: true });
    return { id: del.id.href };
  },
  // NodeInfo from /.well-known/nodeinfo, parsed strictly (null: it did not parse)
  async nodeinfo({ url }) {
    const info = await F.getNodeInfo(url, { parse: "strict" });
    return info == null ? null : JSON.parse(JSON.stringify(info, (key, value) =>
      (typeof value === "object" && value !== null && "major" in value && "minor" in value
        ? F.formatSemVer(value) : value)));
  },
  // the next POST to bob's inboxes: its status, body, signer, what the listener parsed
  async next({ seconds }) {
    if (posts.length) return posts.shift();
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no POST in ${seconds} s`)), seconds * 1000);
      waiting.push((post) => { clearTimeout(timer); resolve(post); });
    });
  },
  async gets() {
    return gets.splice(0);
  },
};

// -- bob's server, and the TLS port in front of scofeed -----------------------------------

async function serve(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const url = `http://${req.headers.host}${req.url}`;
  const init = { method: req.method, headers: req.headers };
  if (body.length) init.body = body;
  const request = new Request(url, init);
  let post = null;
  if (req.method === "POST") {
    const key = await F.verifyRequest(request.clone(), loaders);
    let activity = null;
    try { activity = JSON.parse(body.toString("utf8")); } catch { /* recorded as null */ }
    post = { path: req.url, body: activity, signer: key && { key: href(key.id), owner: href(key.ownerId) } };
  }
  const response = await federation.fetch(request, { contextData: undefined });
  const text = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(text);
  if (post) {
    post.status = response.status;
    post.answer = text.toString("utf8");
    post.parsed = parsed.get(post.body?.id) ?? null;
    post.logs = logs.splice(0);
    const resolve = waiting.shift();
    if (resolve) resolve(post); else posts.push(post);
  }
}

const server = createServer((req, res) => {
  serve(req, res).catch((error) => {
    logs.push(`serve: ${error?.stack ?? error}`);
    res.writeHead(500);
    res.end(String(error));
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
port = server.address().port;

let tls = null;
if (upstream !== "0") {
  tls = createTlsServer(
    { cert: readFileSync(certFile), key: readFileSync(keyFile) },
    (socket) => {
      const up = connect(Number(upstream), "127.0.0.1");
      socket.pipe(up).pipe(socket);
      socket.on("error", () => up.destroy());
      up.on("error", () => socket.destroy());
    },
  );
  await new Promise((resolve) => tls.listen(0, "127.0.0.1", resolve));
}

process.stdout.write(JSON.stringify({ port, tls: tls && tls.address().port }) + "\n");

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { do: name, ...args } = JSON.parse(line);
  let answer;
  try {
    answer = { ok: await commands[name](args) };
  } catch (error) {
    answer = { error: String(error?.stack ?? error), logs: logs.splice(0) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
server.close();
tls?.close();
