// Launch @vercel/cosmosdb-server through its library API, for claimcheck's Cosmos store.
//
// Usage: node launch.mjs --package <dir of @vercel/cosmosdb-server> [--no-keep-alive]
//
// Why not the package's CLI: it answers every request with `connection: close`, so each
// request pays a new TCP connection and TLS handshake (~18 req/s instead of ~500).  Here the
// library's own `keepAlive` option is turned on (and can be turned off, for the benchmark's
// reference figure).
//
// Protocol with the Python side (stores/emulator/_launch.py):
// * listens on 127.0.0.1, on a port chosen by the OS (port 0);
// * prints exactly one line on stdout once listening:
//     {"event": "listening", "endpoint": "https://127.0.0.1:PORT/", "keepAlive": true}
//   and nothing else on stdout afterwards (diagnostics go to stderr, i.e. the log file);
// * exits when its stdin reaches end-of-file, so it never outlives the Python process.
//
// Runtime correction (the npm package itself is never edited): a point read of a missing
// document, or with the wrong partition key, makes the package's read handler dereference
// `undefined` and answer 500; Cosmos answers 404, and the SDK retries a 500 once after 500 ms.
// The handler is wrapped below, before the router captures it, to answer 404 instead.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

function parseArgs(argv) {
  const args = { packageDir: null, keepAlive: true };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--package") {
      args.packageDir = argv[i + 1];
      i += 1;
    } else if (argv[i] === "--no-keep-alive") {
      args.keepAlive = false;
    } else {
      throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  if (!args.packageDir) {
    throw new Error("missing --package <dir of @vercel/cosmosdb-server>");
  }
  return args;
}

const NOT_FOUND = {
  code: "NotFound",
  message: "Entity with the specified id does not exist in the system.,",
};

function patchReadDocument(require) {
  // `require` caches modules by resolved path: `lib/routes.js` will receive this very module
  // object, and reads `.default` when it builds its routing table, i.e. after this patch.
  const readDocument = require("./lib/handler/read-document.js");
  const { parsePartitionKey } = require("./lib/utils/get-partition-from-header.js");
  const original = readDocument.default;
  readDocument.default = (account, req, res, params) => {
    try {
      return original(account, req, res, params);
    } catch (err) {
      // Only the "no such document in this partition" case becomes a 404; anything else is a
      // real server error and still surfaces as a 500.
      const collection = account.database(params.dbId).collection(params.collId);
      const header = req.headers["x-ms-documentdb-partitionkey"];
      let missing = false;
      try {
        const partitionKey = parsePartitionKey(
          Array.isArray(header) ? header[0] : header,
          params.docId,
        );
        missing = collection.read() && !collection.document(params.docId, partitionKey).read();
      } catch {
        missing = false;
      }
      if (!missing) {
        throw err;
      }
      res.statusCode = 404;
      return { ...NOT_FOUND };
    }
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const require = createRequire(join(resolve(args.packageDir), "package.json"));
  patchReadDocument(require);
  const { createHttpsServer } = require("./lib/index.js");
  const server = createHttpsServer({ keepAlive: args.keepAlive });
  // 0 disables the idle timeout: Node would otherwise close idle keep-alive connections after
  // 5 s, racing a client that reuses one at that moment (a reset write the SDK cannot retry).
  server.keepAliveTimeout = 0;
  server.on("error", err => {
    console.error(`claimcheck cosmos emulator: server error: ${err.stack || err}`);
    process.exit(1);
  });
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    const line = JSON.stringify({
      event: "listening",
      endpoint: `https://127.0.0.1:${port}/`,
      keepAlive: args.keepAlive,
    });
    process.stdout.write(`${line}\n`);
    // Nothing else may reach stdout: the parent stops reading it after the first line.
    console.log = console.error;
    console.info = console.error;
  });
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
  process.on("SIGTERM", () => process.exit(0));
}

try {
  main();
} catch (err) {
  console.error(`claimcheck cosmos emulator: ${err.stack || err}`);
  process.exit(2);
}
