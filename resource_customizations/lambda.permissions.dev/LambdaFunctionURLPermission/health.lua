-- Health of a lambda.permissions.dev object (LambdaPermission, LambdaFunctionURLPermission,
-- LambdaPermissionAccount, LambdaResourcePolicy: one script, copied to each kind's
-- directory) for Argo CD.
--
-- The controller writes status.observedGeneration and the conditions Ready,
-- Reconciling and Stalled. This script reads them the way kstatus does
-- (sigs.k8s.io/cli-utils/pkg/kstatus), so Argo CD tells users what Flux and
-- other kstatus-based tools tell them:
--
--   being deleted (metadata.deletionTimestamp)  Progressing  (kstatus: Terminating)
--   status.observedGeneration != generation     Progressing  (InProgress)
--   Stalled=True: a person must act             Degraded     (Failed)
--   Reconciling=True: retrying by itself        Progressing  (InProgress)
--   Ready=True                                  Healthy      (Current)
--   Ready=False or no Ready yet                 Progressing  (InProgress)
--
-- It needs nothing but Lua's base library: scripts set in argocd-cm run
-- without the string, math and io libraries.

local hs = {}

local function findCondition(conditions, conditionType)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function isTrue(condition)
  return condition ~= nil and condition.status == "True"
end

local function messageOf(condition)
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return nil
end

local metadata = obj.metadata or {}
local status = obj.status or {}
local conditions = status.conditions
local ready = findCondition(conditions, "Ready")
local reconciling = findCondition(conditions, "Reconciling")
local stalled = findCondition(conditions, "Stalled")

if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  if obj.kind == "LambdaResourcePolicy" then
    hs.message = "Being deleted: waiting for the controller to remove the statements it wrote from the policy (or retain them, as deletionPolicy says)"
  else
    hs.message = "Being deleted: waiting for the controller to remove the statement from the function's policy (or retain it, as deletionPolicy says)"
  end
  local problem = nil
  if isTrue(stalled) then
    problem = messageOf(stalled)
  elseif isTrue(reconciling) then
    problem = messageOf(reconciling)
  end
  if problem ~= nil then
    hs.message = hs.message .. "; " .. problem
  end
  return hs
end

local generation = metadata.generation
if generation ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = messageOf(stalled) or messageOf(ready) or "Stalled"
  return hs
end

if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling) or messageOf(ready) or "Reconciling"
  return hs
end

if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = messageOf(ready) or "Ready"
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready) or "Waiting for the controller to report Ready"
return hs
