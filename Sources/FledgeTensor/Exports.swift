@_exported import FledgeJSON
