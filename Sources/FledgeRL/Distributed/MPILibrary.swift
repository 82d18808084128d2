import Foundation

/// Open MPI's C interface, loaded at run time with `dlopen`, so that Fledge builds and runs where
/// no MPI is installed.
///
/// Open MPI's handles (`MPI_Comm`, `MPI_Datatype`, `MPI_Op`, `MPI_Errhandler`, `MPI_Request`) are
/// pointers, and its predefined ones are the addresses of global symbols: `MPI_COMM_WORLD` is
/// `&ompi_mpi_comm_world`, `MPI_FLOAT` is `&ompi_mpi_float`, `MPI_SUM` is `&ompi_mpi_op_sum`.
/// The library is `FLEDGE_MPI_LIBRARY` when set, else `libmpi.so.40` (Open MPI 3 to 5). It is
/// opened with `RTLD_GLOBAL` because Open MPI's own plugins resolve their symbols against it.
/// Other MPI implementations (MPICH, Intel MPI) use integer handles and another ABI; they are not
/// supported.
struct MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    /// A pointer to an `MPI_Request`.
    typealias Request = UnsafeMutablePointer<UnsafeMutableRawPointer?>

    let path: String
    let initialized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let finalized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let initThread: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    let finalize: @convention(c) () -> Int32
    let abort: @convention(c) (Handle, Int32) -> Int32
    let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let setErrorHandler: @convention(c) (Handle, Handle) -> Int32
    let errorString: @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    /// `MPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm)`.
    let allReduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    /// `MPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm)`.
    let allGather: @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle) -> Int32
    /// `MPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm)`.
    let allGatherVaried: @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, UnsafePointer<Int32>,
                                         UnsafePointer<Int32>, Handle, Handle) -> Int32
    /// `MPI_Ibarrier(comm, request)`.
    let barrier: @convention(c) (Handle, Request) -> Int32
    /// `MPI_Test(request, flag, status)`.
    let test: @convention(c) (Request, UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer?) -> Int32

    let commWorld: Handle
    let float: Handle
    let double: Handle
    let byte: Handle
    let int: Handle
    let sum: Handle
    let errorsReturn: Handle

    /// `MPI_IN_PLACE`.
    static var inPlace: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: 1) }
    /// `MPI_THREAD_FUNNELED`: only the thread that initialised MPI calls it.
    static let threadFunneled: Int32 = 1
    /// `MPI_MAX_ERROR_STRING`.
    static let maxErrorString = 256

    /// The library at `FLEDGE_MPI_LIBRARY`, else Open MPI's `libmpi.so.40` on the loader's path.
    static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CommunicatorError) -> MPILibrary {
        #if os(macOS)
        let defaultName = "libmpi.40.dylib"
        #else
        let defaultName = "libmpi.so.40"
        #endif
        let path = environment["FLEDGE_MPI_LIBRARY"] ?? defaultName
        guard let library = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw .libraryUnavailable("this process was started by an MPI launcher, but the MPI library \(path) could not be "
                + "loaded (\(reason)); install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or set "
                + "FLEDGE_MPI_LIBRARY to the path of Open MPI's libmpi")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(CommunicatorError) -> T {
            guard let address = dlsym(library, name) else {
                throw .libraryUnavailable("\(path) has no symbol \(name): Fledge needs Open MPI's libmpi (3.x to 5.x); "
                    + "set FLEDGE_MPI_LIBRARY to it (MPICH and Intel MPI are not supported)")
            }
            return unsafeBitCast(address, to: type)
        }
        func handle(_ name: String) throws(CommunicatorError) -> Handle {
            try symbol(name, as: Handle.self)
        }
        return MPILibrary(
            path: path,
            initialized: try symbol("MPI_Initialized", as: (@convention(c) (UnsafeMutablePointer<Int32>) -> Int32).self),
            finalized: try symbol("MPI_Finalized", as: (@convention(c) (UnsafeMutablePointer<Int32>) -> Int32).self),
            initThread: try symbol("MPI_Init_thread", as: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                                                           Int32, UnsafeMutablePointer<Int32>) -> Int32).self),
            finalize: try symbol("MPI_Finalize", as: (@convention(c) () -> Int32).self),
            abort: try symbol("MPI_Abort", as: (@convention(c) (Handle, Int32) -> Int32).self),
            commRank: try symbol("MPI_Comm_rank", as: (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self),
            commSize: try symbol("MPI_Comm_size", as: (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self),
            setErrorHandler: try symbol("MPI_Comm_set_errhandler", as: (@convention(c) (Handle, Handle) -> Int32).self),
            errorString: try symbol("MPI_Error_string", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>,
                                                                             UnsafeMutablePointer<Int32>) -> Int32).self),
            allReduce: try symbol("MPI_Allreduce", as: (@convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32,
                                                                        Handle, Handle, Handle) -> Int32).self),
            allGather: try symbol("MPI_Allgather", as: (@convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?,
                                                                        Int32, Handle, Handle) -> Int32).self),
            allGatherVaried: try symbol("MPI_Allgatherv", as: (@convention(c) (UnsafeRawPointer?, Int32, Handle,
                                                                               UnsafeMutableRawPointer?, UnsafePointer<Int32>,
                                                                               UnsafePointer<Int32>, Handle, Handle) -> Int32).self),
            barrier: try symbol("MPI_Ibarrier", as: (@convention(c) (Handle, Request) -> Int32).self),
            test: try symbol("MPI_Test", as: (@convention(c) (Request, UnsafeMutablePointer<Int32>,
                                                              UnsafeMutableRawPointer?) -> Int32).self),
            commWorld: try handle("ompi_mpi_comm_world"), float: try handle("ompi_mpi_float"),
            double: try handle("ompi_mpi_double"), byte: try handle("ompi_mpi_byte"), int: try handle("ompi_mpi_int"),
            sum: try handle("ompi_mpi_op_sum"), errorsReturn: try handle("ompi_mpi_errors_return"))
    }

    /// The text MPI gives for an error code.
    func message(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Self.maxErrorString + 1)
        var length: Int32 = 0
        guard errorString(code, &buffer, &length) == 0 else { return "unknown error" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
