import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request made synchronously with Foundation's URLSession (FoundationNetworking on Linux,
/// which ships with the Swift toolchain and runs on libcurl): redirects followed or not, and a
/// successful body streamed to `sink` chunk by chunk so that a dropped connection keeps what arrived.
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// What came back: the status and headers, and the body unless it went to the sink.
    struct Answer {
        let status: Int
        let headers: [String: String]
        let body: Data

        /// The header's value, whatever the case of its name.
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    private let followRedirects: Bool
    private let sink: ((Int, Data) throws -> Void)?
    private let lock = NSLock()
    private let finished = DispatchSemaphore(value: 0)
    private var response: HTTPURLResponse?
    private var body = Data()
    private var failure: (any Error)?

    /// `sink` gets the status and each chunk of a 200 or 206 body; other bodies are kept in `Answer.body`.
    private init(followRedirects: Bool, sink: ((Int, Data) throws -> Void)?) {
        self.followRedirects = followRedirects
        self.sink = sink
    }

    /// Sends `method` to `url` with `headers` and waits for the whole answer (at most `timeout` seconds
    /// without data). Throws `HubError.connection` when no complete answer arrives.
    static func send(_ method: String, _ url: URL, headers: [String: String], followRedirects: Bool,
                     timeout: TimeInterval = 60, sink: ((Int, Data) throws -> Void)? = nil) throws(HubError) -> Answer {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let transfer = HTTPTransfer(followRedirects: followRedirects, sink: sink)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.urlCache = nil
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: nil)
        session.dataTask(with: request).resume()
        transfer.finished.wait()
        session.finishTasksAndInvalidate()
        return try transfer.answer(url: url)
    }

    private func answer(url: URL) throws(HubError) -> Answer {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure as? HubError ?? .connection(url: url.absoluteString, reason: Self.reason(failure)) }
        guard let response else { throw .connection(url: url.absoluteString, reason: "no HTTP response") }
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return Answer(status: response.statusCode, headers: headers, body: body)
    }

    private static func reason(_ error: any Error) -> String {
        (error as? URLError).map { "\($0.localizedDescription) (URLError \($0.code.rawValue))" } ?? "\(error)"
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(followRedirects ? request : nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        lock.lock()
        self.response = response as? HTTPURLResponse
        lock.unlock()
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        defer { lock.unlock() }
        guard failure == nil else { return }
        let status = response?.statusCode ?? 0
        if let sink, status == 200 || status == 206 {
            do { try sink(status, data) } catch {
                failure = error
                dataTask.cancel()
            }
        } else {
            body.append(data)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.lock()
        if let error, failure == nil { failure = error }
        lock.unlock()
        finished.signal()
    }
}
