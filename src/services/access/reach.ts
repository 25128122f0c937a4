/**
 * What part of the fleet a caller reaches. A superadmin reaches everything; an admin the
 * workspaces assigned to it; a client the tenants assigned to it. A key limited to one
 * workspace (`api-keys create --workspace`) narrows its user's reach to that workspace.
 */
export type Reach =
  | {readonly kind: 'all'}
  | {readonly kind: 'tenants'; readonly tenants: readonly ReachTenant[]}
  | {readonly kind: 'workspaces'; readonly workspaceIds: ReadonlySet<string>}

export interface ReachTenant {
  /** tenants.id */
  readonly id: string
  /** The tenant id within its workspace (tenants.tenant_id). */
  readonly tenantId: string
  readonly workspaceId: string
}

export const REACH_ALL: Reach = {kind: 'all'}

/** `reach` within one workspace (a key limited to it), or as it is when `workspaceId` is null. */
export function narrowToWorkspace(reach: Reach, workspaceId: null | string): Reach {
  if (workspaceId === null) return reach
  switch (reach.kind) {
    case 'all': {
      return {kind: 'workspaces', workspaceIds: new Set([workspaceId])}
    }

    case 'workspaces': {
      return {kind: 'workspaces', workspaceIds: new Set([...reach.workspaceIds].filter((id) => id === workspaceId))}
    }

    case 'tenants': {
      return {kind: 'tenants', tenants: reach.tenants.filter((tenant) => tenant.workspaceId === workspaceId)}
    }
  }
}

export function reachesWorkspace(reach: Reach, workspaceId: string): boolean {
  switch (reach.kind) {
    case 'all': {
      return true
    }

    case 'workspaces': {
      return reach.workspaceIds.has(workspaceId)
    }

    case 'tenants': {
      return reach.tenants.some((tenant) => tenant.workspaceId === workspaceId)
    }
  }
}

/** Whether the tenant with this tenant id in this workspace is within reach. */
export function reachesTenant(reach: Reach, workspaceId: string, tenantId: string): boolean {
  return reach.kind === 'tenants' ? reach.tenants.some((tenant) => tenant.workspaceId === workspaceId && tenant.tenantId === tenantId) : reachesWorkspace(reach, workspaceId)
}

/** The tenant ids reached in a workspace, or undefined when the whole workspace is (no filter needed). */
export function tenantIdsReached(reach: Reach, workspaceId: string): string[] | undefined {
  return reach.kind === 'tenants' ? reach.tenants.filter((tenant) => tenant.workspaceId === workspaceId).map((tenant) => tenant.tenantId) : undefined
}

/** The reach as JSON for `GET /api/me` and the audit trail: ids, never more. */
export function describeReach(reach: Reach, workspaceSlugs: ReadonlyMap<string, string>): Record<string, unknown> {
  switch (reach.kind) {
    case 'all': {
      return {all: true}
    }

    case 'workspaces': {
      return {all: false, workspaces: [...reach.workspaceIds].map((id) => workspaceSlugs.get(id) ?? id).sort()}
    }

    case 'tenants': {
      return {all: false, tenants: reach.tenants.map((tenant) => ({tenantId: tenant.tenantId, workspace: workspaceSlugs.get(tenant.workspaceId) ?? tenant.workspaceId})).sort((a, b) => `${a.workspace}/${a.tenantId}`.localeCompare(`${b.workspace}/${b.tenantId}`))}
    }
  }
}
