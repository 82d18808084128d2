@_exported import FledgeLM
@_exported import FledgeData
