import { createRequire } from 'node:module';
import type * as GrpcModule from '@grpc/grpc-js';
import type * as ProtoLoaderModule from '@grpc/proto-loader';

/**
 * grpc-js and proto-loader (with protobufjs) cost a few hundred milliseconds to load. Every CLI start would pay that,
 * even `--help` or `check`, so they are required on first use. Both are CommonJS, so a synchronous require works
 * and the client keeps its synchronous constructor.
 */
const require = createRequire(import.meta.url);
let grpcModule: typeof GrpcModule | undefined;
let protoLoaderModule: typeof ProtoLoaderModule | undefined;

export function grpc(): typeof GrpcModule {
  grpcModule ??= require('@grpc/grpc-js') as typeof GrpcModule;
  return grpcModule;
}

export function protoLoader(): typeof ProtoLoaderModule {
  protoLoaderModule ??= require('@grpc/proto-loader') as typeof ProtoLoaderModule;
  return protoLoaderModule;
}

/** gRPC status codes we branch on (stable numbers from the gRPC spec; no need to load grpc-js for them). */
export const GrpcStatus = {
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
