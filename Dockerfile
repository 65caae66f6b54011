# Breakglass app server. Build: docker build -t breakglass .   Run: see docs/deployment.md.
# Nothing in the tests needs Docker; this is for deployments.
# Node 24 (Active LTS) is recommended; 22 works too, and 20.18+ stays supported (CONTRIBUTING "Node versions").
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# tsx is a runtime dependency: the server runs its TypeScript sources directly.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY app.yml ./
COPY src ./src
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/app/main.ts"]
