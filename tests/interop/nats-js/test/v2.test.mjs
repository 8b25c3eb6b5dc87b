// nats.js 2.x (npm `nats`) against NATS_SERVER_BIN.
import { connect, headers, ErrorCode } from "nats";
import { scenarios } from "../lib/scenarios.mjs";

scenarios({
  connect,
  headers,
  isNoResponders: (err) => err?.code === ErrorCode.NoResponders,
  isMaxPayload: (err) => err?.code === ErrorCode.MaxPayloadExceeded,
});
