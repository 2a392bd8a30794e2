// TSan-only: tells ThreadSanitizer what absl::Mutex and absl::CondVar do.
//
// Debian's libabsl_synchronization is not built with -fsanitize=thread, so
// its lock and unlock are invisible to TSan: every access under an
// absl::Mutex would look like a race. cmake/sanitize.cmake links this file
// into every executable of a CONGVAN_SANITIZE=thread build and exports its
// definitions, so that they interpose the library's out-of-line entry
// points, for calls from our code and from shared libraries alike (gRPC,
// and Abseil's own Notification, BlockingCounter and ReleasableMutexLock,
// which call Mutex::Lock/Unlock/LockWhen/Await through the PLT). Each one
// calls the real function, found with dlsym(RTLD_NEXT), between the
// annotations that Abseil itself makes when it is built with TSan
// (absl/base/internal/tsan_mutex_interface.h); the constructor's
// __tsan_mutex_create is inline in mutex.h and already in our code.
//
// Between a pre_ and its post_ annotation TSan ignores the thread's memory
// accesses. That is where Abseil evaluates a Condition: in LockWhen and
// Await on the waiting thread, and in Unlock on the thread that releases
// (it tests its waiters' conditions before it wakes them). A Condition's
// reads are therefore never reported, neither falsely nor truly; everything
// else done under the lock is checked.
//
// Await and CondVar::Wait release the mutex and take it again before they
// return: they are annotated as an unlock and a lock, with the wait (and
// the Condition) in the ignored region between them. When Await finds its
// Condition true at once it does not release; the extra release/acquire
// pair adds no ordering, since no other thread can hold the mutex between.
//
// absl::Notification also hands over through an atomic flag that Abseil
// sets unseen (NotifiedFlag below): Notify and WaitForNotification* are
// interposed too.
//
// Entry points covered: everything in mutex.h that takes, releases or waits
// (the inline WriterLock, MutexLock, ReaderMutexLock, ... call these), and
// Notification's. Not covered: the debug hooks, Barrier and BlockingCounter
// (they lock through the PLT, so their Mutex is seen; nothing of ours uses
// them).
// tests/sanitize/tsan_shim_check.cc proves it works; README.md here.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#if !defined(__SANITIZE_THREAD__)
#error "tsan_absl_mutex.cc is for -fsanitize=thread builds only"
#endif

namespace {

#define CONGVAN_STR2(x) #x
#define CONGVAN_STR(x) CONGVAN_STR2(x)

// Itanium mangling of absl::<inline namespace>::<rest>; a const member
// function's `rest` starts with K (the qualifier goes after the N).
std::string Mangled(const char* rest) {
  std::string prefix = "_ZN";
  if (*rest == 'K') {
    prefix += 'K';
    ++rest;
  }
  prefix += "4absl";
#if ABSL_OPTION_USE_INLINE_NAMESPACE
  const std::string ns = CONGVAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  prefix += std::to_string(ns.size()) + ns;
#endif
  return prefix + rest;
}

// The real function, in the next object after this executable: Abseil's.
template <typename F>
F Real(const char* rest) {
  const std::string name = Mangled(rest);
  void* f = dlsym(RTLD_NEXT, name.c_str());
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found: %s\n", name.c_str(), dlerror());
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

using absl::CondVar;
using absl::Condition;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

// Resolved once, before main (the first Mutex is locked after it), and
// again if a constructor of another object locks one first.
struct RealFunctions {
  void (*lock)(Mutex*) = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  void (*unlock)(Mutex*) = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  bool (*try_lock)(Mutex*) = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  void (*reader_lock)(Mutex*) = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  void (*reader_unlock)(Mutex*) = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  bool (*reader_try_lock)(Mutex*) = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  void (*lock_when)(Mutex*, const Condition&) =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex8LockWhenERKNS0_9ConditionE");
  bool (*lock_when_deadline)(Mutex*, const Condition&, Time) =
      Real<bool (*)(Mutex*, const Condition&, Time)>("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  void (*reader_lock_when)(Mutex*, const Condition&) =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  bool (*reader_lock_when_deadline)(Mutex*, const Condition&, Time) =
      Real<bool (*)(Mutex*, const Condition&, Time)>("5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  void (*await)(Mutex*, const Condition&) =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex5AwaitERKNS0_9ConditionE");
  bool (*await_deadline)(Mutex*, const Condition&, Time) =
      Real<bool (*)(Mutex*, const Condition&, Time)>("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  void (*destroy)(Mutex*) = Real<void (*)(Mutex*)>("5MutexD2Ev");
  void (*cv_wait)(CondVar*, Mutex*) = Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  bool (*cv_wait_deadline)(CondVar*, Mutex*, Time) =
      Real<bool (*)(CondVar*, Mutex*, Time)>("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  void (*notify)(Notification*) = Real<void (*)(Notification*)>("12Notification6NotifyEv");
  void (*wait_notification)(const Notification*) =
      Real<void (*)(const Notification*)>("K12Notification19WaitForNotificationEv");
  bool (*wait_notification_timeout)(const Notification*, Duration) =
      Real<bool (*)(const Notification*, Duration)>("K12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  bool (*wait_notification_deadline)(const Notification*, Time) =
      Real<bool (*)(const Notification*, Time)>("K12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
};

const RealFunctions& R() {
  static const RealFunctions real;
  return real;
}
const RealFunctions& resolved_before_main = R();

// Whether the calling thread holds `mu` shared rather than exclusively:
// Mutex's first member is its word, whose kMuWriter bit (mutex.cc) is set
// while a writer holds it. Only read by a thread that holds `mu`.
unsigned HeldFlags(const Mutex* mu) {
  constexpr intptr_t kMuWriter = 0x0008;
  const auto* word = reinterpret_cast<const std::atomic<intptr_t>*>(mu);
  return (word->load(std::memory_order_relaxed) & kMuWriter) != 0 ? 0 : __tsan_mutex_read_lock;
}

template <typename F>
auto Locking(Mutex* mu, unsigned flags, F&& real) {
  __tsan_mutex_pre_lock(mu, flags);
  auto result = real();
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

// A lock that may give up (LockWhenWithTimeout): it returns with the mutex
// held whatever the Condition's value, so it is always a lock.
template <typename F>
void LockingVoid(Mutex* mu, unsigned flags, F&& real) {
  __tsan_mutex_pre_lock(mu, flags);
  real();
  __tsan_mutex_post_lock(mu, flags, 0);
}

bool Trying(Mutex* mu, unsigned flags, bool (*real)(Mutex*)) {
  flags |= __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(mu, flags);
  const bool locked = real(mu);
  __tsan_mutex_post_lock(mu, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

void Unlocking(Mutex* mu, unsigned flags, void (*real)(Mutex*)) {
  __tsan_mutex_pre_unlock(mu, flags);
  real(mu);
  __tsan_mutex_post_unlock(mu, flags);
}

// Await, CondVar::Wait: release, wait (ignored), take again.
template <typename F>
auto Waiting(Mutex* mu, F&& real) {
  const unsigned flags = HeldFlags(mu);
  __tsan_mutex_pre_unlock(mu, flags);
  auto result = real();
  __tsan_mutex_post_unlock(mu, flags);
  __tsan_mutex_pre_lock(mu, flags);
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

// Notification's flag, `std::atomic<bool> notified_yet_` after its
// `Mutex mutex_` (notification.h). Notify sets it in Abseil, unseen; the
// inline HasBeenNotified() reads it in our code, and WaitForNotification
// reads it in Abseil before it takes the mutex: a release on the flag's
// address in Notify, and an acquire there after a wait that saw it, order
// them as the flag's own release store and acquire load do.
void* NotifiedFlag(const Notification* n) {
  static_assert(sizeof(Notification) == 2 * sizeof(Mutex), "absl::Notification's layout changed");
  return const_cast<char*>(reinterpret_cast<const char*>(n)) + sizeof(Mutex);
}

// The *WithTimeout functions are Abseil's *WithDeadline ones at now +
// timeout: Abseil's own tail-call them through the PLT, which would make
// them annotate twice, so ours do the same without calling the real ones.
Time Deadline(Duration timeout) { return absl::Now() + timeout; }

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() { LockingVoid(this, 0, [&] { R().lock(this); }); }
void Mutex::Unlock() { Unlocking(this, 0, R().unlock); }
bool Mutex::TryLock() { return Trying(this, 0, R().try_lock); }
void Mutex::ReaderLock() { LockingVoid(this, __tsan_mutex_read_lock, [&] { R().reader_lock(this); }); }
void Mutex::ReaderUnlock() { Unlocking(this, __tsan_mutex_read_lock, R().reader_unlock); }
bool Mutex::ReaderTryLock() { return Trying(this, __tsan_mutex_read_lock, R().reader_try_lock); }

void Mutex::LockWhen(const Condition& cond) { LockingVoid(this, 0, [&] { R().lock_when(this, cond); }); }
bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return LockWhenWithDeadline(cond, Deadline(timeout));
}
bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  return Locking(this, 0, [&] { return R().lock_when_deadline(this, cond, deadline); });
}
void Mutex::ReaderLockWhen(const Condition& cond) {
  LockingVoid(this, __tsan_mutex_read_lock, [&] { R().reader_lock_when(this, cond); });
}
bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return ReaderLockWhenWithDeadline(cond, Deadline(timeout));
}
bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  return Locking(this, __tsan_mutex_read_lock,
                 [&] { return R().reader_lock_when_deadline(this, cond, deadline); });
}

void Mutex::Await(const Condition& cond) {
  Waiting(this, [&] {
    R().await(this, cond);
    return true;
  });
}
bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  return AwaitWithDeadline(cond, Deadline(timeout));
}
bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  return Waiting(this, [&] { return R().await_deadline(this, cond, deadline); });
}

Mutex::~Mutex() {
  __tsan_mutex_destroy(this, __tsan_mutex_not_static);
  R().destroy(this);
}

void CondVar::Wait(Mutex* mu) {
  Waiting(mu, [&] {
    R().cv_wait(this, mu);
    return true;
  });
}
bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  return WaitWithDeadline(mu, Deadline(timeout));
}
bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  return Waiting(mu, [&] { return R().cv_wait_deadline(this, mu, deadline); });
}

void Notification::Notify() {
  __tsan_release(NotifiedFlag(this));
  R().notify(this);
}
void Notification::WaitForNotification() const {
  R().wait_notification(this);
  __tsan_acquire(NotifiedFlag(this));
}
bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  const bool notified = R().wait_notification_timeout(this, timeout);
  if (notified) __tsan_acquire(NotifiedFlag(this));
  return notified;
}
bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  const bool notified = R().wait_notification_deadline(this, deadline);
  if (notified) __tsan_acquire(NotifiedFlag(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
