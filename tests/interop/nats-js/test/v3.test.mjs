// nats.js 3.x (`@nats-io/transport-node`) against NATS_SERVER_BIN.
import { connect, headers, errors } from "@nats-io/transport-node";
import { scenarios } from "../lib/scenarios.mjs";

scenarios({
  connect,
  headers,
  isNoResponders: (err) =>
    err instanceof errors.NoRespondersError ||
    (err instanceof errors.RequestError && err.isNoResponders()),
  // 3.x reports an oversize publish as an invalid "payload" argument.
  isMaxPayload: (err) => err instanceof errors.InvalidArgumentError && /max_payload/.test(err.message),
});
