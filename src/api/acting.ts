/**
 * What the resource routes share: the caller as core's Actor, and core's Resources for them.
 */
import { type Actor, LocalResources } from "../core/resources";
import { authenticate } from "./auth";
import { type HttpContext, clientOf } from "./context";

export async function actorFor(deps: HttpContext, request: Request): Promise<Actor> {
  const p = await authenticate(deps, request);
  return { userId: p.user.id, admin: p.user.role === "admin", name: `user:${p.user.id}`, address: clientOf(deps, request) };
}

export async function resourcesFor(deps: HttpContext, request: Request): Promise<LocalResources> {
  return new LocalResources(deps, await actorFor(deps, request));
}
