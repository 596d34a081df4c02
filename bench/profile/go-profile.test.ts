import { packageOf, parseTop, summariseTop } from './go-profile';

const TOP = `File: daprd
Type: cpu
Showing nodes accounting for 2000ms, 100% of 2000ms total
      flat  flat%   sum%        cum   cum%
    600ms 30.00% 30.00%      600ms 30.00%  runtime.futex
    400ms 20.00% 50.00%     1200ms 60.00%  github.com/dapr/dapr/pkg/runtime/pubsub.(*pubsub).Publish
    300ms 15.00% 65.00%      300ms 15.00%  encoding/json.(*decodeState).object
    200ms 10.00% 75.00%      900ms 45.00%  github.com/dapr/components-contrib/pubsub/redis.(*redisStreams).Publish.func1
    500ms 25.00%   100%      500ms 25.00%  net/http.(*conn).serve
         0     0%   100%     1500ms 75.00%  github.com/dapr/dapr/pkg/api/http.(*api).onBulkPublish
`;

describe('go pprof top', () => {
  it('reads every function row', () => {
    expect(parseTop(TOP)).toHaveLength(6);
    expect(parseTop(TOP)[1]).toEqual({
      flat: 400,
      cum: 1200,
      fn: 'github.com/dapr/dapr/pkg/runtime/pubsub.(*pubsub).Publish',
    });
  });

  it.each([
    ['runtime.futex', 'runtime'],
    ['net/http.(*conn).serve', 'net/http'],
    [
      'github.com/dapr/components-contrib/pubsub/redis.(*redisStreams).Publish.func1',
      'github.com/dapr/components-contrib/pubsub/redis',
    ],
    ['github.com/x/y.Run', 'github.com/x/y'],
  ])('%s is in %s', (fn, pkg) => expect(packageOf(fn)).toBe(pkg));

  it('sums self time per package and ranks Dapr functions by cumulative time', () => {
    const b = summariseTop(parseTop(TOP));
    expect(b.busyMs).toBe(2000);
    expect(b.byPackage).toEqual({
      runtime: 600,
      'github.com/dapr/dapr/pkg/runtime/pubsub': 400,
      'encoding/json': 300,
      'github.com/dapr/components-contrib/pubsub/redis': 200,
      'net/http': 500,
      'github.com/dapr/dapr/pkg/api/http': 0,
    });
    expect(Object.entries(b.daprFunctions)).toEqual([
      ['dapr/dapr/pkg/api/http.(*api).onBulkPublish', 1500],
      ['dapr/dapr/pkg/runtime/pubsub.(*pubsub).Publish', 1200],
      ['dapr/components-contrib/pubsub/redis.(*redisStreams).Publish.func1', 900],
    ]);
  });
});
