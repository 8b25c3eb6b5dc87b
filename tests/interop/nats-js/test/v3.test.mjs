// nats.js 3.x (`@nats-io/transport-node`) against NATS_SERVER_BIN.
import { connect, headers, errors, nkeyAuthenticator } from "@nats-io/transport-node";
import { scenarios } from "../lib/scenarios.mjs";
import { authScenarios } from "../lib/auth.mjs";

scenarios({
  connect,
  headers,
  isNoResponders: (err) =>
    err instanceof errors.NoRespondersError ||
    (err instanceof errors.RequestError && err.isNoResponders()),
  // 3.x reports an oversize publish as an invalid "payload" argument.
  isMaxPayload: (err) => err instanceof errors.InvalidArgumentError && /max_payload/.test(err.message),
});

authScenarios({
  connect,
  nkeyAuthenticator,
  isAuthError: (err) => err instanceof errors.AuthorizationError,
  // 3.x: status {type: "error", error: PermissionViolationError} with the text.
  onAsyncError: (nc, fn) => {
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "error" && s.error instanceof errors.PermissionViolationError) {
          const { operation, subject, queue, message } = s.error;
          fn({ operation, subject, queue, message });
        }
      }
    })().catch(() => {});
  },
});
