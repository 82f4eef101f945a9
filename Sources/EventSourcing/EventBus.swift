/// Carries every committed event, in order and exactly once, to every subscriber.
///
/// The bus reads only from the store: whoever appended an event (this process or another),
/// ``pump()`` finds it after the store has it and delivers it. A subscriber that joins late is
/// caught up from the position it asks for before it sees live events.
///
/// Threading: one thread at a time (the TUI's main loop).
public final class EventBus<Codec: EventCodec> {
    /// A subscriber's handle, used to unsubscribe.
    public struct Subscription: Hashable, Sendable {
        fileprivate let id: Int
    }

    private let store: any EventStore
    private var subscribers: [(id: Int, handler: (Envelope<Codec.Event>) -> Void)] = []
    /// Subscribers that read records in place (read models with a fast path of their own).
    private var recordSubscribers: [(id: Int, handler: (RecordView) throws -> Void)] = []
    private var nextID = 0
    /// The last position delivered to every subscriber.
    public private(set) var deliveredThrough: Int

    /// Creates a bus over `store` that starts delivering after `position`.
    public init(store: any EventStore, startingAfter position: Int = 0) {
        self.store = store
        self.deliveredThrough = position
    }

    /// Subscribes `handler`, first replaying events after `position` through what the bus has
    /// already delivered, then every new one.
    @discardableResult
    public func subscribe(
        after position: Int, _ handler: @escaping (Envelope<Codec.Event>) -> Void
    ) throws -> Subscription {
        if position < deliveredThrough {
            try store.forEachRecord(from: position + 1, through: deliveredThrough) { record in
                handler(Envelope(metadata: record.metadata, event: try Codec.decode(record)))
            }
        }
        nextID += 1
        subscribers.append((nextID, handler))
        return Subscription(id: nextID)
    }

    /// Subscribes `handler` to the committed records themselves, in the same order and with
    /// the same catch-up as ``subscribe(after:_:)``, for read models that decode in place
    /// (``Projection/apply(record:codec:)``). The record is valid only during the call.
    @discardableResult
    public func subscribeRecords(
        after position: Int, _ handler: @escaping (RecordView) throws -> Void
    ) throws -> Subscription {
        if position < deliveredThrough {
            try store.forEachRecord(from: position + 1, through: deliveredThrough, handler)
        }
        nextID += 1
        recordSubscribers.append((nextID, handler))
        return Subscription(id: nextID)
    }

    /// Stops delivering to `subscription`.
    public func unsubscribe(_ subscription: Subscription) {
        subscribers.removeAll { $0.id == subscription.id }
        recordSubscribers.removeAll { $0.id == subscription.id }
    }

    /// Looks for events committed since the last delivery (refreshing the store, which picks up
    /// other processes' appends) and delivers them in order.
    ///
    /// - Returns: how many events were delivered.
    @discardableResult
    public func pump() throws -> Int {
        try store.refresh()
        let last = store.lastPosition
        guard deliveredThrough < last else { return 0 }
        let first = deliveredThrough + 1
        // Advanced record by record: if a record cannot be decoded, what came before it stays
        // delivered exactly once.
        var delivered = deliveredThrough
        defer { deliveredThrough = delivered }
        if subscribers.isEmpty {
            // Record subscribers only (the TUI's case): a loop outside this generic class, so
            // that it is compiled for its concrete types rather than looking them up per record.
            try deliverRecords(
                from: store, first: first, last: last, to: recordSubscribers.map(\.handler), delivered: &delivered)
        } else {
            let recordHandlers = recordSubscribers.map(\.handler)
            let envelopeHandlers = subscribers.map(\.handler)
            try store.forEachRecord(from: first, through: last) { record in
                for handler in recordHandlers { try handler(record) }
                let envelope = Envelope(metadata: record.metadata, event: try Codec.decode(record))
                for handler in envelopeHandlers { handler(envelope) }
                delivered = record.position
            }
        }
        return last - first + 1
    }
}

/// Delivers the records `first...last` of `store` to `handlers`, in order, recording each one
/// delivered in `delivered`.
private func deliverRecords(
    from store: any EventStore, first: Int, last: Int, to handlers: [(RecordView) throws -> Void],
    delivered: inout Int
) throws {
    var progress = delivered
    defer { delivered = progress }
    try store.forEachRecord(from: first, through: last) { record in
        for handler in handlers { try handler(record) }
        progress = record.position
    }
}
