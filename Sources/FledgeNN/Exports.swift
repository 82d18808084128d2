@_exported import FledgeTensor
