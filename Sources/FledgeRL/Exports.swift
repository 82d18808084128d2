@_exported import FledgeLM
