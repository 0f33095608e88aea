/**
 * The shared security suite over the account routes (auth, keys, users, settings).
 */
import { securitySuite } from "./security-suite";

securitySuite("account routes", (h, owner) => {
  const ownerKeyId = h.store.apiKeys.list(owner.id)[0]!.id;
  return {
    routes: [
      { method: "GET", path: "/api/auth/me", kind: "collection" },
      { method: "PATCH", path: "/api/auth/me", body: { email: "taken@example.test", currentPassword: owner.password }, kind: "collection" },
      { method: "POST", path: "/api/auth/logout", kind: "collection" },
      { method: "POST", path: "/api/auth/2fa/setup", kind: "collection" },
      { method: "POST", path: "/api/auth/2fa/enable", body: { pin: "123456" }, kind: "collection" },
      { method: "POST", path: "/api/auth/2fa/disable", body: { pin: "123456" }, kind: "collection" },
      { method: "GET", path: "/api/keys", kind: "collection" },
      { method: "POST", path: "/api/keys", body: { label: "x" }, kind: "collection" },
      { method: "DELETE", path: `/api/keys/${ownerKeyId}`, kind: "object" },
      { method: "GET", path: "/api/users", kind: "admin" },
      { method: "GET", path: `/api/users/${owner.id}`, kind: "admin" },
      { method: "PATCH", path: `/api/users/${owner.id}`, body: { quota: { hostnames: 1 } }, kind: "admin" },
      { method: "POST", path: "/api/users/invitations", body: { email: "new@example.test" }, kind: "admin" },
      { method: "GET", path: "/api/settings", kind: "admin" },
      { method: "PATCH", path: "/api/settings", body: { registrationOpen: true }, kind: "admin" },
    ],
    markers: [owner.email],
  };
});
