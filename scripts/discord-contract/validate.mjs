// Validates every REST request body recorded by the fake Discord against the zod schemas that
// discord-api-spec generates from Discord's OpenAPI document. Usage: node validate.mjs <dir>
// Fails when a body does not validate, carries a field the schema does not know, uses a route
// with no schema assigned, or when nothing was recorded at all.
import * as fs from "node:fs";
import * as path from "node:path";
import * as S from "discord-api-spec/zod";
import * as z from "zod/mini";

const callbackSchemas = {
  4: S.CreateMessageInteractionCallbackRequestSchema,
  5: S.CreateMessageInteractionCallbackRequestSchema,
  6: S.UpdateMessageInteractionCallbackRequestSchema,
  7: S.UpdateMessageInteractionCallbackRequestSchema,
  8: S.ApplicationCommandAutocompleteCallbackRequestSchema,
  9: S.ModalInteractionCallbackRequestSchema,
};

// Route (method + path template, as the fake records it) -> schema for the body.
const routes = {
  "POST /channels/:id/messages": () => S.MessageCreateRequestSchema,
  "PATCH /channels/:id/messages/:id": () => S.MessageEditRequestPartialSchema,
  "POST /guilds/:id/channels": () => S.CreateGuildChannelRequestSchema,
  "POST /guilds/:id/roles": () => S.CreateRoleRequestSchema,
  "PATCH /channels/:id": () => S.UpdateGuildChannelRequestPartialSchema,
  "POST /users/@me/channels": () => S.CreatePrivateChannelRequestSchema,
  "POST /interactions/:id/:token/callback": (body) => callbackSchemas[body?.type],
  "PATCH /webhooks/:id/:token/messages/@original": () =>
    S.IncomingWebhookUpdateForInteractionCallbackRequestPartialSchema,
  "POST /webhooks/:id/:token": () => S.IncomingWebhookRequestPartialSchema,
  "PUT /applications/:id/guilds/:id/commands": () => z.array(S.ApplicationCommandUpdateRequestSchema),
};

// Keys present in `input` but dropped by the (non-strict) schema: fields Discord does not know.
function unknownKeys(input, output, where, found) {
  if (Array.isArray(input) && Array.isArray(output)) {
    input.forEach((item, i) => unknownKeys(item, output[i], `${where}[${i}]`, found));
  } else if (input && typeof input === "object" && output && typeof output === "object") {
    for (const key of Object.keys(input)) {
      if (!(key in output)) found.push(`${where}.${key}`);
      else unknownKeys(input[key], output[key], `${where}.${key}`, found);
    }
  }
  return found;
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node validate.mjs <directory of requests-*.jsonl>");
  process.exit(2);
}
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
let checked = 0;
const failures = [];
const perRoute = {};
for (const file of files) {
  const lines = fs.readFileSync(path.join(dir, file), "utf8").split("\n").filter(Boolean);
  for (const line of lines) {
    const record = JSON.parse(line);
    const pick = routes[record.route];
    const schema = pick && pick(record.body);
    if (!schema) {
      failures.push(`${record.route}: no schema for this route/body (type ${record.body?.type})`);
      continue;
    }
    checked++;
    perRoute[record.route] = (perRoute[record.route] ?? 0) + 1;
    const result = schema.safeParse(record.body);
    if (!result.success) {
      failures.push(`${record.route}: ${JSON.stringify(result.error.issues).slice(0, 600)}\n  body: ${line.slice(0, 400)}`);
      continue;
    }
    const extra = unknownKeys(record.body, result.data, "body", []);
    if (extra.length > 0) failures.push(`${record.route}: fields unknown to the schema: ${extra.join(", ")}`);
  }
}
for (const [route, count] of Object.entries(perRoute).sort()) console.log(`${String(count).padStart(5)}  ${route}`);
if (checked === 0) failures.push("no request bodies were recorded: the suite did not exercise the fake");
if (failures.length > 0) {
  console.error(`${failures.length} contract failure(s):`);
  for (const f of failures.slice(0, 50)) console.error(" - " + f);
  process.exit(1);
}
console.log(`discord contract: ${checked} request bodies valid against discord-api-spec`);
