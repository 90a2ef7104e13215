-- Argo CD health check for the quayconfig.io kinds (see README, "GitOps tools").
-- Healthy: Ready=True for the current generation. Degraded: Stalled=True,
-- something only a person can fix (the spec, a grant, the token, a conflict).
-- Progressing: anything else (not yet observed, retrying, waiting for a
-- dependency: Reconciling=True).
local hs = {}
local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report"
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end
local ready = nil
local stalled = nil
for _, condition in ipairs(status.conditions) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Stalled" and condition.status == "True" then
    stalled = condition
  end
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
elseif stalled ~= nil then
  hs.status = "Degraded"
  hs.message = stalled.message
elseif ready ~= nil then
  hs.status = "Progressing"
  hs.message = ready.message
else
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
end
return hs
