#!/usr/bin/perl
# Checks docs/openapi.yaml two ways, run by `make test`:
#   1. it is a valid OpenAPI 3 document (JSON::Validator's OpenAPI v3 schema, from Debian's
#      libjson-validator-perl), $refs resolved;
#   2. it describes exactly the gateway's routes: every row of gateway_routes[] in
#      services/gateway/routes.c ("METHOD", "/path/{param}") is a documented operation, and every
#      documented operation is a route (path parameters compared by position, not by name).
# Usage: tools/openapi-check.pl docs/openapi.yaml services/gateway/routes.c
use strict;
use warnings;
use JSON::Validator::Schema::OpenAPIv3;

my ($doc, $routes_c) = @ARGV;
die "usage: $0 openapi.yaml routes.c\n" unless $doc && $routes_c;

my $schema = JSON::Validator::Schema::OpenAPIv3->new($doc);
my @problems = map {"openapi: $_"} @{$schema->errors};

sub shape { my $p = shift; $p =~ s/\{[^}]+\}/{}/g; return $p }

my %documented;
my $paths = $schema->get('/paths') || {};
for my $path (keys %$paths) {
    for my $method (keys %{$paths->{$path}}) {
        next unless $method =~ /^(get|put|post|patch|delete)$/;
        $documented{uc($method) . ' ' . shape($path)} = 1;
    }
}

open my $fh, '<', $routes_c or die "$routes_c: $!\n";
my %routed;
while (my $line = <$fh>) {
    next unless $line =~ /^\s*\{"(GET|PUT|POST|PATCH|DELETE)",\s*"([^"]+)"/;
    $routed{"$1 " . shape($2)} = 1;
}
close $fh;

for my $r (sort keys %routed) {
    push @problems, "routed but not documented: $r" unless $documented{$r};
}
for my $d (sort keys %documented) {
    push @problems, "documented but not routed: $d" unless $routed{$d};
}
print "$_\n" for @problems;
printf "openapi: %d operations, %d routes: %s\n", scalar(keys %documented), scalar(keys %routed),
    @problems ? scalar(@problems) . " problems" : "valid and complete";
exit(@problems ? 1 : 0);
