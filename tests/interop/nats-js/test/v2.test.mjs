// nats.js 2.x (npm `nats`) against NATS_SERVER_BIN.
import { connect, headers, ErrorCode, nkeyAuthenticator } from "nats";
import { scenarios } from "../lib/scenarios.mjs";
import { authScenarios } from "../lib/auth.mjs";

scenarios({
  connect,
  headers,
  isNoResponders: (err) => err?.code === ErrorCode.NoResponders,
  isMaxPayload: (err) => err?.code === ErrorCode.MaxPayloadExceeded,
});

authScenarios({
  connect,
  nkeyAuthenticator,
  isAuthError: (err) => err?.code === ErrorCode.AuthorizationViolation,
  // 2.x reports server errors as status events carrying the error code and,
  // for permission errors, the parsed context (not the text).
  onAsyncError: (nc, fn) => {
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "error" && s.data === ErrorCode.PermissionsViolation && s.permissionContext) {
          const { operation, subject, queue } = s.permissionContext;
          fn({ operation, subject, queue, message: null });
        }
      }
    })().catch(() => {});
  },
});
