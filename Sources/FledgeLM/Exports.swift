@_exported import FledgeNN
