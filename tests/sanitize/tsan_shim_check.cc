// Proves tsan_absl_mutex.cc (README.md here): run by tests/sanitize/run.sh
// tsan, built twice, with the shim (tsan_shim_check) and without it
// (tsan_shim_check_noshim).
//
//   tsan_shim_check racy      a counter two threads bump without a lock:
//                             TSan must report a data race
//   tsan_shim_check locked    every way congvan and Abseil hand data from one
//                             thread to another under an absl::Mutex: TSan
//                             must report nothing
//   tsan_shim_check_noshim locked   the same without the shim: TSan must
//                             report a race (the obstacle the shim removes)
//
// Exit status is TSan's (TSAN_OPTIONS exitcode) when it reports, else 0.

#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

// Not atomic, not volatile: only a lock may order these accesses.
int counter = 0;
absl::Mutex mu;

void Bump(bool locked) {
  for (int i = 0; i < 1000; ++i) {
    if (locked) {
      absl::MutexLock lock(&mu);
      ++counter;
    } else {
      ++counter;
    }
  }
}

void TwoThreads(bool locked) {
  std::thread a(Bump, locked), b(Bump, locked);
  a.join();
  b.join();
}

// A value handed over through each waiting primitive congvan uses (Await,
// AwaitWithTimeout, LockWhen with a timeout) and the ones Abseil builds on
// Mutex (Notification, CondVar), plus TryLock and ReaderLock.
void Handoffs() {
  struct Box {
    absl::Mutex mu;
    bool ready = false;
    int value = 0;
  };
  {
    Box box;
    std::thread writer([&] {
      absl::MutexLock lock(&box.mu);
      box.value = 1;
      box.ready = true;
    });
    {
      absl::MutexLock lock(&box.mu);
      box.mu.Await(absl::Condition(&box.ready));
      std::printf("Await: %d\n", box.value);
    }
    writer.join();
  }
  {
    Box box;
    std::thread writer([&] {
      absl::MutexLock lock(&box.mu);
      box.value = 2;
      box.ready = true;
    });
    {
      absl::MutexLock lock(&box.mu);
      while (!box.mu.AwaitWithTimeout(absl::Condition(&box.ready), absl::Milliseconds(1))) {
      }
      std::printf("AwaitWithTimeout: %d\n", box.value);
    }
    writer.join();
  }
  {
    Box box;
    std::thread writer([&] {
      absl::MutexLock lock(&box.mu);
      box.value = 3;
      box.ready = true;
    });
    while (!box.mu.LockWhenWithTimeout(absl::Condition(&box.ready), absl::Milliseconds(1))) box.mu.Unlock();
    std::printf("LockWhenWithTimeout: %d\n", box.value);
    box.mu.Unlock();
    writer.join();
  }
  {
    Box box;
    absl::CondVar cv;
    std::thread writer([&] {
      absl::MutexLock lock(&box.mu);
      box.value = 4;
      box.ready = true;
      cv.Signal();
    });
    {
      absl::MutexLock lock(&box.mu);
      while (!box.ready) cv.Wait(&box.mu);
      std::printf("CondVar::Wait: %d\n", box.value);
    }
    writer.join();
  }
  {
    // Notification locks its Mutex from inside libabsl_synchronization.
    int value = 0;
    absl::Notification done;
    std::thread writer([&] {
      value = 5;
      done.Notify();
    });
    done.WaitForNotification();
    std::printf("Notification: %d\n", value);
    writer.join();
  }
  {
    // HasBeenNotified() is inline: its load is in our code, the store that
    // it reads in Abseil's Notify.
    int value = 0;
    absl::Notification done;
    std::thread writer([&] {
      value = 6;
      done.Notify();
    });
    while (!done.HasBeenNotified()) std::this_thread::yield();
    std::printf("HasBeenNotified: %d\n", value);
    writer.join();
  }
  {
    Box box;
    std::thread writer([&] {
      while (!box.mu.TryLock()) std::this_thread::yield();
      box.value = 7;
      box.mu.Unlock();
    });
    writer.join();
    absl::ReaderMutexLock lock(&box.mu);
    std::printf("TryLock, ReaderLock: %d\n", box.value);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "racy") == 0) {
    TwoThreads(false);
  } else if (argc == 2 && std::strcmp(argv[1], "locked") == 0) {
    TwoThreads(true);
    Handoffs();
  } else {
    std::fprintf(stderr, "usage: %s racy|locked\n", argv[0]);
    return 2;
  }
  std::printf("counter: %d\n", counter);
  return 0;
}
