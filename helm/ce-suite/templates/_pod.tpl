{{/* The pod spec of a service; `.args` are the container's arguments. */}}
{{- define "ce.podSpec" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "ce.svcname" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: {{ .name }}
    image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag }}"
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    command: ["/usr/local/bin/{{ .name }}"]
    args:
      {{- toYaml .args | nindent 6 }}
    env:
      - name: CE_{{ upper .name }}__DATABASE__URL
        valueFrom:
          secretKeyRef:
            name: {{ .dbSecret | default (include "ce.dbSecret" $root) }}
            key: {{ .name }}
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    resources:
      {{- toYaml $root.Values.resources | nindent 6 }}
    {{- if .serve }}
    ports:
      - name: grpc
        containerPort: {{ .port }}
        protocol: TCP
    {{- /* grpc.health.v1 needs no token; kubelet's gRPC probe speaks no TLS. */}}
    readinessProbe:
      {{- if $root.Values.tls.enabled }}
      tcpSocket:
        port: grpc
      {{- else }}
      grpc:
        port: {{ .port }}
      {{- end }}
      periodSeconds: 5
      failureThreshold: 2
    livenessProbe:
      {{- if $root.Values.tls.enabled }}
      tcpSocket:
        port: grpc
      {{- else }}
      grpc:
        port: {{ .port }}
      {{- end }}
      initialDelaySeconds: 10
      periodSeconds: 10
      failureThreshold: 3
    {{- end }}
    volumeMounts:
      - name: config
        mountPath: /etc/ce/config
        readOnly: true
      - name: keys
        mountPath: /etc/ce/keys
        readOnly: true
      {{- if (include "ce.peers" .name | fromJsonArray) }}
      - name: service-key
        mountPath: /etc/ce/service-key
        readOnly: true
      {{- end }}
      {{- if .serve }}
      - name: rules
        mountPath: /etc/ce/rules
        readOnly: true
      {{- end }}
      {{- if $root.Values.tls.enabled }}
      - name: tls
        mountPath: /etc/ce/tls
        readOnly: true
      {{- end }}
      - name: tmp
        mountPath: /tmp
volumes:
  - name: config
    configMap:
      name: {{ .configName | default (printf "%s-config" (include "ce.svcname" .)) }}
  - name: keys
    secret:
      secretName: {{ $root.Values.keys.existingSecret }}
  {{- if (include "ce.peers" .name | fromJsonArray) }}
  - name: service-key
    secret:
      secretName: {{ include "ce.serviceKeySecret" . }}
      items:
        - key: service-private.pem
          path: service-private.pem
        {{- if eq .name "crediting" }}
        - key: certificate-private.pem
          path: certificate-private.pem
        {{- end }}
  {{- end }}
  {{- if .serve }}
  - name: rules
    configMap:
      name: {{ include "ce.fullname" $root }}-rules
  {{- end }}
  {{- if $root.Values.tls.enabled }}
  - name: tls
    secret:
      secretName: {{ $root.Values.tls.existingSecret }}
  {{- end }}
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
