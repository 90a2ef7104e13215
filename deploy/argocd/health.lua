-- Argo CD health check for the quayconfig.io kinds (see README, "GitOps tools").
-- Healthy: Ready=True for the current generation. Progressing: not yet
-- observed, or waiting for something that resolves itself (a dependency, a
-- retry). Degraded: something a person must fix (reason listed below).
local needs_a_person = {
  InvalidSpec = true, ConflictingResource = true, NotPermitted = true,
  IdentityChanged = true, Unauthorized = true, Forbidden = true,
  BadRequest = true, InvalidConnection = true, DriftDetected = true,
  NotFoundInQuay = true, DeletionBlocked = true,
}
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
for _, condition in ipairs(status.conditions) do
  if condition.type == "Ready" then
    hs.message = condition.message
    if condition.status == "True" then
      hs.status = "Healthy"
    elseif needs_a_person[condition.reason] then
      hs.status = "Degraded"
    else
      hs.status = "Progressing"
    end
    return hs
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
