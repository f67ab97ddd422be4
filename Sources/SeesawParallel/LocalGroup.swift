import Foundation

/// The state that the in-process ranks of one group share: mailboxes for point-to-point messages and a rendezvous
/// for collectives, behind one condition variable. Waiting ranks sleep (spinning ranks would steal each other's
/// core), and every wait ends at the deadline or when a rank aborts the group.
final class LocalGroup: @unchecked Sendable {
  let size: Int
  let timeout: Double
  private let condition = NSCondition()
  /// Queued messages per (source, destination, tag), oldest first.
  private var mailboxes: [MailboxKey: [[UInt8]]] = [:]
  /// Collective rendezvous: values of the current round in slots[round % 2], so that a rank that already left
  /// round r can deposit for round r + 1 while a slower one still reads round r.
  private var slots: [[Any?]]
  private var numArrived = 0
  private var round = 0
  private var abortReason: String?

  struct MailboxKey: Hashable {
    var source: Int
    var destination: Int
    var tag: Int
  }

  init(size: Int, timeout: Double) {
    self.size = size
    self.timeout = timeout
    slots = Array(repeating: Array(repeating: nil, count: size), count: 2)
  }

  /// Deposits `value` for this round and returns every rank's value once all have arrived.
  func exchange(_ value: Any?, rank: Int, operation: String) throws -> [Any?] {
    condition.lock()
    defer { condition.unlock() }
    try checkAborted()
    let myRound = round
    slots[myRound % 2][rank] = value
    numArrived += 1
    if numArrived == size {
      numArrived = 0
      round += 1
      condition.broadcast()
    } else {
      try wait(operation: operation, rank: rank) { self.round != myRound }
    }
    return slots[myRound % 2]
  }

  func post(_ data: [UInt8], key: MailboxKey) throws {
    condition.lock()
    defer { condition.unlock() }
    try checkAborted()
    mailboxes[key, default: []].append(data)
    condition.broadcast()
  }

  func take(key: MailboxKey, operation: String) throws -> [UInt8] {
    condition.lock()
    defer { condition.unlock() }
    try wait(operation: operation, rank: key.destination) { !(self.mailboxes[key]?.isEmpty ?? true) }
    return mailboxes[key]!.removeFirst()
  }

  func abort(reason: String) {
    condition.lock()
    if abortReason == nil { abortReason = reason }
    condition.broadcast()
    condition.unlock()
  }

  private func checkAborted() throws {
    if let abortReason { throw CommunicatorError.aborted(reason: abortReason) }
  }

  /// Waits (lock held) until `ready`, the group is aborted, or the timeout passes.
  private func wait(operation: String, rank: Int, until ready: () -> Bool) throws {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while !ready() {
      try checkAborted()
      if !condition.wait(until: deadline) && !ready() {
        try checkAborted()
        throw CommunicatorError.timeout(operation: operation, rank: rank, seconds: timeout)
      }
    }
  }
}
