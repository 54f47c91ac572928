// Waiting for progress: on the latch alone when every target runs in a worker; else on one WaitEventSet of
// the in-backend connections' sockets and the latch, built once per call and rebuilt only when its sockets
// change, with the nearest deadline of those connections as its timeout.
#include "fanout/fanout_internal.hpp"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
}

namespace multidb {

namespace {

constexpr long kSlotPollMs = 10;

bool waits_on_socket(const Channel* channel) {
  return channel->state == ChannelState::kLocal && !channel->local_ready &&
         remote_socket(&channel->local) != PGINVALID_SOCKET;
}

// True when the sockets to wait on are not the ones the set holds. While libpq connects, a socket may be
// closed and another opened under the same number (the next host or address): the set cannot tell them
// apart, so it is rebuilt for every wait of a connecting channel.
bool wait_set_outdated(const Fanout* fanout) {
  if (fanout->wait_set == nullptr) return true;
  for (int i = 0; i < fanout->channel_count; i++) {
    const Channel* channel = &fanout->channels[i];
    if (channel->state == ChannelState::kLocal && channel->local.phase == RemotePhase::kConnecting) return true;
    pgsocket wanted = waits_on_socket(channel) ? remote_socket(&channel->local) : PGINVALID_SOCKET;
    if (wanted != channel->registered_socket) return true;
  }
  return false;
}

void build_wait_set(Fanout* fanout) {
  free_wait_set(fanout);
  int sockets = 0;
  for (int i = 0; i < fanout->channel_count; i++) sockets += waits_on_socket(&fanout->channels[i]) ? 1 : 0;
  fanout->wait_set = CreateWaitEventSet(fanout->caller_context, sockets + 2);
  AddWaitEventToSet(fanout->wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
  AddWaitEventToSet(fanout->wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
  for (int i = 0; i < fanout->channel_count; i++) {
    Channel* channel = &fanout->channels[i];
    if (!waits_on_socket(channel)) continue;
    channel->registered_socket = remote_socket(&channel->local);
    channel->registered_events = channel->local_wait_events;
    channel->registered_position =
        AddWaitEventToSet(fanout->wait_set, channel->local_wait_events, channel->registered_socket, nullptr, channel);
  }
}

}  // namespace

void free_wait_set(Fanout* fanout) {
  if (fanout->wait_set != nullptr) FreeWaitEventSet(fanout->wait_set);
  fanout->wait_set = nullptr;
  for (int i = 0; i < fanout->channel_count; i++) fanout->channels[i].registered_socket = PGINVALID_SOCKET;
}

void wait_for_progress(Fanout* fanout) {
  int locals = 0;
  long timeout = -1;
  for (int i = 0; i < fanout->request->target_count; i++) {
    Channel* channel = &fanout->channels[i];
    if (channel->state != ChannelState::kLocal || channel->local_ready) continue;
    locals++;
    long channel_timeout = remote_timeout_ms(&channel->local);
    if (channel_timeout >= 0 && (timeout < 0 || channel_timeout < timeout)) timeout = channel_timeout;
  }
  // A slot given back in another backend sets no latch of ours: look again soon.
  if (fanout->waiting_for_slot && (timeout < 0 || timeout > kSlotPollMs)) timeout = kSlotPollMs;
  if (locals == 0) {
    WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (timeout >= 0 ? WL_TIMEOUT : 0), timeout,
              PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    return;
  }

  if (wait_set_outdated(fanout)) {
    build_wait_set(fanout);
  } else {
    for (int i = 0; i < fanout->channel_count; i++) {
      Channel* channel = &fanout->channels[i];
      if (channel->registered_socket == PGINVALID_SOCKET || channel->registered_events == channel->local_wait_events)
        continue;
      ModifyWaitEvent(fanout->wait_set, channel->registered_position, channel->local_wait_events, nullptr);
      channel->registered_events = channel->local_wait_events;
    }
  }
  WaitEvent events[64];
  int fired = WaitEventSetWait(fanout->wait_set, timeout, events, lengthof(events), PG_WAIT_EXTENSION);
  for (int i = 0; i < fired; i++) {
    if (events[i].events & WL_LATCH_SET) ResetLatch(MyLatch);
    if (events[i].user_data != nullptr) static_cast<Channel*>(events[i].user_data)->local_ready = true;
  }
  if (fired == 0) {
    // The timeout: let every connecting target look at its deadline.
    for (int i = 0; i < fanout->request->target_count; i++)
      if (fanout->channels[i].state == ChannelState::kLocal) fanout->channels[i].local_ready = true;
  }
}

}  // namespace multidb
